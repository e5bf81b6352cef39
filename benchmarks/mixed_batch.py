"""Write a folder of mixed submissions for `python -m grader batch`: a class on a bad day.

    python benchmarks/mixed_batch.py DIR
    python -m grader batch DIR --out DIR-graded --jobs 2

Correct work in every form (package, .py, notebook, .zip), every mutant of the catalogue,
stubs and half-done work, broken inputs, and hostile submissions from tests/hostile.
"""

from __future__ import annotations

import argparse
import re
import shutil
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
