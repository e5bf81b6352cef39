"""grader/batch/gradebook.py and progress.py: output that is safe for any entry name and any
student text, and the same from one run to the next."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from grader.batch import gradebook
from grader.batch.progress import Progress
from grader.pipeline import SECTION_IDS

HOSTILE_NAMES = [
    '=HYPERLINK("http://evil.example","click").py',
    "+cmd.py",
    "-2+3.py",
    "@SUM(A1).py",
    "\tleading-tab.py",
    "\rleading-cr.py",
    "\nleading-lf.py",
    "line\nbreak.py",
    "\x1b[2J\x1b[32mScore: 100/100\x1b[0m.py",
    b"\xff\xfe.py".decode("utf-8", "surrogateescape"),
]


def test_formula_cells_are_neutralised_and_numbers_stay_numbers(tmp_path):
    rows = [["id", "student", "score", "max_score"]]
    rows += [[name, "=1+1", 87.5, 100.0] for name in HOSTILE_NAMES]
    gradebook.write_csv(tmp_path / "book.csv", rows)
    with open(tmp_path / "book.csv", newline="", encoding="utf-8") as f:
        read = list(csv.reader(f))
    for written, (name, student, score, maximum) in zip(rows[1:], read[1:], strict=True):
        assert not name.startswith(gradebook.FORMULA_STARTS)
        assert student == "'=1+1" and (score, maximum) == ("87.5", "100.0")
        if written[0].startswith(gradebook.FORMULA_STARTS):
            assert name == "'" + written[0]
    assert read[-1][0] == "\\udcff\\udcfe.py"  # an undecodable name, shown not mangled


def test_pandas_reads_scores_as_numbers_and_names_as_text(tmp_path):
    pandas = pytest.importorskip("pandas")
    rows = [["id", "score"]] + [[name, 45.125] for name in HOSTILE_NAMES]
    gradebook.write_csv(tmp_path / "book.csv", rows)
    frame = pandas.read_csv(tmp_path / "book.csv")
    assert frame["score"].dtype.kind == "f" and list(frame["score"]) == [45.125] * len(rows[1:])
    assert frame["id"].iloc[0] == "'" + HOSTILE_NAMES[0]


def synthetic_row(name: str, failing: list[str]) -> dict:
    tests = [{"id": f"{t}[0]", "status": "failed"} for t in failing]
    report = {
        "score": 1.0,
        "max_score": 2.0,
        "sections": [{"id": "forward", "score": 1.0, "max_score": 2.0, "tests": tests}],
    }
    return {
        "id": name,
        "score": 1.0,
        "max_score": 2.0,
        "forward": 1.0,
        "status": "graded",
        "_report": report,
        **{s: None for s in SECTION_IDS if s != "forward"},
    }


def test_ties_among_the_most_common_failures_are_sorted_by_name(tmp_path):
    names = [f"forward::test_{c}" for c in "qwertyuiopasdfghjklz"]
    rows = [synthetic_row(f"s{i}", names) for i in range(2)]
    rows.append(synthetic_row("s3", ["forward::test_zz"]))
    text = gradebook.summary(rows, tmp_path)
    listed = [
        line.strip().split(": failed by")[0]
        for line in text.splitlines()
        if line.startswith("  forward::")
    ]
    assert listed == sorted(names)[:10]  # all 20 tie at 2 of 3; test_zz, 1 of 3, is last
    assert gradebook.summary(list(reversed(rows)), tmp_path) == text


def test_the_progress_log_and_summary_show_names_never_obey_them(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    progress = Progress(len(HOSTILE_NAMES))
    for name in HOSTILE_NAMES:
        progress.step(name, "error: refused: \x1b]0;owned\x07")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err and "\udcff" not in err
    assert len(err.splitlines()) == len(HOSTILE_NAMES)
    shown_first = list(reversed(HOSTILE_NAMES))  # the summary names five entries it could not grade
    rows = [{**synthetic_row(n, []), "status": "error: x", "_report": None} for n in shown_first]
    text = gradebook.summary(rows, tmp_path)
    assert "\x1b" not in text and "\r" not in text and "line\\nbreak.py" in text


def test_a_name_too_long_for_the_file_system_gets_a_short_record(tmp_path):
    name = "n" * 250 + ".py"
    gradebook.record(
        tmp_path, name, None, {"status": "graded", "report": {"x": 1}, "duration_s": 1.0}
    )
    stem = gradebook.stem(name)
    assert len(stem.encode()) < 200 and stem != gradebook.stem(name[:-4] + "x.py")
    result = json.loads((tmp_path / "results" / f"{stem}.json").read_text())
    assert result["id"] == name and result["report"] == f"reports/{stem}.json"


def test_every_column_is_there_for_an_entry_of_no_lms(tmp_path):
    rows = gradebook.rebuild(tmp_path, ["plain.py"], tmp_path, "scratchgrad")
    with open(tmp_path / "gradebook.csv", newline="", encoding="utf-8") as f:
        header, row = list(csv.reader(io.StringIO(f.read())))
    assert tuple(header) == gradebook.COLUMNS and len(row) == len(header)
    assert rows[0]["status"] == "error: not graded yet (interrupted?)"
    assert not (tmp_path / "canvas_grades.csv").exists()
