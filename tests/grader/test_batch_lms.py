"""grader/batch/lms.py: student identity from LMS download names, and grade files in the
formats Canvas and Moodle import."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from grader import batch, stubs
from grader.batch import gradebook, lms

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
METADATA = """\
submission_409194023:
  :submitters:
  - :name: First Last
    :sid: '123456789'
    :email: first@example.edu
  :created_at: 2026-04-26 17:34:00.861687000 Z
  :score: 2.0
  :results:
    score: 2.0
    output: |-
      :submitters:
      - :name: Not A Submitter
submission_500000001:
  :submitters:
  - :name: "Al\\u00efce O'Hara"
    :sid: 111
  - :name: 'Bob O''Brien'
    :sid: '222'
    :email: bob@example.edu
  :score: 10.0
submission_600000002:
  :submitters: []
"""


@pytest.mark.parametrize(
    "name, expected",
    [
        ("smithjohn_12345_67890_hw.py", lms.Identity("canvas", "smithjohn", "12345", late="no")),
        (
            "smithjohn_LATE_12345_67890_hw-1.ipynb",
            lms.Identity("canvas", "smithjohn", "12345", late="yes"),
        ),
        ("anon_x1y2z_67890_hw.py", lms.Identity("canvas", "", "anon_x1y2z", late="no")),
        (
            "Jane Q Doe_4242_assignsubmission_file_hw.py",
            lms.Identity("moodle", "Jane Q Doe", "4242"),
        ),
        ("Jane Q Doe_4242_assignsubmission_file_", lms.Identity("moodle", "Jane Q Doe", "4242")),
        ("smithjohn_12345_67891_hw-1.py", lms.Identity("canvas", "smithjohn", "12345", late="no")),
        (
            "submission_409194023",
            lms.Identity("gradescope", "First Last", "123456789", "first@example.edu"),
        ),
        (
            "submission_500000001",
            lms.Identity(
                "gradescope", "Alïce O'Hara; Bob O'Brien", "111; 222", "; bob@example.edu"
            ),
        ),
        ("submission_600000002", lms.Identity("gradescope")),
        ("submission_999", lms.Identity()),
        ("homework.py", lms.Identity()),
    ],
)
def test_identity_from_download_names(name, expected):
    assert lms.identify(name, lms.parse_gradescope_metadata(METADATA)) == expected


def canvas_accepts(header: list[str]) -> bool:
    """Canvas' GradebookImporter#header? (app/models/gradebook_importer.rb), as a predicate."""
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        return False
    columns = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        columns += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        columns += 2
    return "Section" in header[columns - 1]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """A Canvas file, a Moodle folder and a Gradescope export in one folder, graded."""
    root = tmp_path_factory.mktemp("lms")
    module = stubs.build_module(SOLUTIONS, solutions=True)
    (root / "in").mkdir()
    (root / "in" / "smithjohn_LATE_12345_67890_hw.py").write_text(module)
    (root / "in" / "=evil_777_888_hw.py").write_text(module.replace("self.data + other.data", "0"))
    moodle = root / "in" / "Jane Q Doe_4242_assignsubmission_file"
    moodle.mkdir()
    (moodle / "my_work.py").write_text(module)
    shutil.copytree(
        SOLUTIONS,
        root / "in" / "submission_409194023",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (root / "in" / lms.METADATA).write_text(METADATA)
    (root / "in" / "no_python_files").mkdir()
    (root / "in" / "no_python_files" / "notes.txt").write_text("I ran out of time.\n")
    out = root / "out"
    argv = [
        str(root / "in"),
        "--out",
        str(out),
        "--section",
        "forward",
        "--canvas-assignment",
        "Homework 3 (123456)",
    ]
    assert batch.main(argv) == 0
    return out


def read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_the_gradebook_names_each_student(graded):
    book = {row[0]: row for row in read(graded / "gradebook.csv")}
    assert book["smithjohn_LATE_12345_67890_hw.py"][1:6] == [
        "canvas",
        "smithjohn",
        "12345",
        "",
        "yes",
    ]
    assert book["Jane Q Doe_4242_assignsubmission_file"][1:4] == ["moodle", "Jane Q Doe", "4242"]
    assert book["submission_409194023"][1:5] == [
        "gradescope",
        "First Last",
        "123456789",
        "first@example.edu",
    ]
    assert book["'=evil_777_888_hw.py"][2] == "'=evil"  # neutralised, in both columns
    assert all(len(row) == len(book["id"]) for row in book.values())


def test_canvas_gets_a_gradebook_import_it_accepts(graded):
    rows = read(graded / "canvas_grades.csv")
    assert rows[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Homework 3 (123456)",
    ]
    assert canvas_accepts(rows[0]) and rows[1] == ["Points Possible", "", "", "", "", "20"]
    assert rows[2] == ["smithjohn", "12345", "", "", "", "20"]  # rows in order of Canvas id
    assert rows[3][:5] == ["'=evil", "777", "", "", ""] and float(rows[3][5]) < 20


def test_moodle_gets_a_grading_worksheet_it_imports(graded):
    header, row = read(graded / "moodle_grades.csv")
    # mod/assign/feedback/offline/importgradeslib.php needs these three columns by name.
    assert {"Identifier", "Grade", "Last modified (grade)"} <= set(header)
    record = dict(zip(header, row, strict=True))
    assert record["Identifier"] == "Participant 4242" and record["Full name"] == "Jane Q Doe"
    assert (record["Grade"], record["Maximum Grade"]) == ("20", "20")
    datetime.fromisoformat(record["Last modified (grade)"])  # strtotime() reads ISO 8601
    assert record["Feedback comments"] == "scratchgrad: 20/20."


def test_a_message_about_an_entry_names_it_not_a_temporary_folder(graded):
    book = {row[0]: row for row in read(graded / "gradebook.csv")}
    assert book["no_python_files"][gradebook.COLUMNS.index("status")].startswith(
        "error: The folder no_python_files holds no Python files"
    )
