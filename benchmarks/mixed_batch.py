"""Write a folder of mixed submissions for `python -m grader batch`: a class on a bad day.

    python benchmarks/mixed_batch.py DIR
    python -m grader batch DIR --out DIR-graded --jobs 2

Correct work in every form (package, .py, notebook, .zip, LMS download names), every mutant of
the catalogue, stubs and half-done work, broken inputs, hostile zips and names, and hostile
submissions from tests/hostile.
"""

from __future__ import annotations

import argparse
import re
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader import stubs  # noqa: E402
from grader.mutants import MUTANTS  # noqa: E402

SOLUTIONS = REPO / "solutions"
ATTACKS = REPO / "tests" / "hostile" / "submissions"
PLACEHOLDER = re.compile(r"__[A-Z_]+__")
DEVICE = zipfile.ZipInfo("tty")
DEVICE.create_system, DEVICE.external_attr = 3, (stat.S_IFCHR | 0o666) << 16
HOSTILE_ZIPS = {
    "zip_file_and_folder_named_exercises.zip": [("exercises", "x"), ("exercises/__init__.py", "")],
    "zip_stored_then_damaged.zip": [("engine.py", "x = 1\n")],
    "zip_holding_a_device.zip": [(DEVICE, "")],
    "zip_name_too_long.zip": [("x" * 300 + ".py", "")],
}


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True)
    reference = stubs.build_module(SOLUTIONS, solutions=True)
    for i in range(4):
        shutil.copytree(
            SOLUTIONS, out / f"correct_package_{i}", ignore=shutil.ignore_patterns("__pycache__")
        )
    for i in range(3):
        (out / f"correct_module_{i}.py").write_text(reference)
        nbformat.write(
            stubs.build_notebook(SOLUTIONS, solutions=True), out / f"correct_notebook_{i}.ipynb"
        )
    with zipfile.ZipFile(out / "correct_zipped.zip", "w") as archive:
        for file in sorted(SOLUTIONS.glob("*.py")):
            archive.write(file, f"mywork/{file.name}")
    for mutant in MUTANTS:
        mutant.apply(SOLUTIONS, out / mutant.name)
    (out / "untouched_stubs.py").write_text(stubs.build_module(SOLUTIONS, solutions=False))
    for done in (1, 2, 3):
        todo = {t for t in _task_ids(reference) if int(t.split(".")[0]) > done}
        (out / f"parts_1_to_{done}_done.py").write_text(stubs.stub_source(reference, tasks=todo))
    (out / "syntax_error.py").write_text(reference + "\ndef broken(:\n")
    (out / "empty.py").write_text("")
    (out / "binary_garbage.py").write_bytes(bytes(range(256)) * 4)
    (out / "corrupted_notebook.ipynb").write_text('{"cells": [')
    (out / "no_python_files").mkdir()
    (out / "no_python_files" / "notes.txt").write_text("I ran out of time.\n")
    with zipfile.ZipFile(out / "zip_slip.zip", "w") as archive:
        archive.writestr("../../escaped.py", "print('escaped')\n")
    for name, members in HOSTILE_ZIPS.items():
        with zipfile.ZipFile(out / name, "w") as archive:
            for member, data in members:
                archive.writestr(member, data)
    damaged = (out / "zip_stored_then_damaged.zip").read_bytes().replace(b"x = 1", b"x = 2")
    (out / "zip_stored_then_damaged.zip").write_bytes(damaged)  # its CRC no longer matches
    (out / "smithjohn_LATE_12345_67890_hw.py").write_text(reference)  # a Canvas download
    moodle = out / "Jane Doe_4242_assignsubmission_file"  # a Moodle one, in its folder
    moodle.mkdir()
    (moodle / "my_work.py").write_text(reference)
    (out / '=HYPERLINK("evil.example")_named_like_a_formula.py').write_text(reference)
    for attack in sorted(ATTACKS.glob("*.py")):
        text = attack.read_text()
        if not PLACEHOLDER.search(text) and attack.stem != "conftest_in_submission_folder":
            (out / f"hostile_{attack.stem}.py").write_text(f"{reference}\n\nATTACK = True\n{text}")
    return sorted(out.iterdir())


def _task_ids(source: str) -> set[str]:
    return set(re.findall(r"# BEGIN SOLUTION (\d+\.\d+):", source))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a new folder")
    entries = write(parser.parse_args().out)
    print(f"Wrote {len(entries)} submissions to {parser.parse_args().out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
