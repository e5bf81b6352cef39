"""What each bug of the mutant catalogue costs, section by section: prints a Markdown table.

    python benchmarks/costs.py [--jobs 2] [FOLDER ...]

Every mutant of grader/mutants.py is graded (with `python -m grader batch`), and so is every
submission in each FOLDER given (one-bug submissions such as tests/submissions/one_bug). Each
row: the bug, its task, the first task under "What to fix", and the points lost in each section
that lost any. docs/grading.md's table "What a realistic bug costs" comes from this.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.mutants import MUTANTS  # noqa: E402
from grader.selfcheck import expected_of, first_to_fix, section_scores  # noqa: E402


def graded(folder: Path, out: Path, jobs: int) -> dict[str, dict]:
    """Each entry's report, by entry name."""
    subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(folder), "--out", str(out)]
        + ["--jobs", str(jobs)],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in (out / "reports").glob("*.json")
    }


def losses(report: dict) -> str:
    """`backward 3, training 0.5`: what each section that lost points lost."""
    lost = [
        f"{section} {most - score:g}"
        for section, (score, most) in section_scores(report).items()
        if score < most
    ]
    return ", ".join(lost) or "nothing"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="*", type=Path)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        mutants = tmp_path / "mutants"
        mutants.mkdir()
        for mutant in MUTANTS:
            mutant.apply(REPO / "solutions", mutants / mutant.name)
        reports = graded(mutants, tmp_path / "mutants-graded", args.jobs)
        rows += [(m.name, m.task, reports[m.name]) for m in MUTANTS]
        for i, folder in enumerate(args.folders):
            copy = tmp_path / f"folder{i}"
            shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
            reports = graded(copy, tmp_path / f"folder{i}-graded", args.jobs)
            for path in sorted(folder.iterdir()):
                if path.name in reports:
                    rows.append((path.stem, expected_of(path).task or "none", reports[path.name]))
    print("| bug | task | first to fix | loses |")
    print("| --- | --- | --- | --- |")
    for name, task, report in rows:
        print(f"| {name} | {task} | {first_to_fix(report) or '-'} | {losses(report)} |")


if __name__ == "__main__":
    main()
