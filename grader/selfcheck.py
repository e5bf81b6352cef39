"""`python -m grader check`: the kit checks itself before an instructor ships it.

The exercises are in sync with the solutions, the shipped expectations with torch, the
solutions earn every point (hidden tests too), the stubs earn none, and every mutant in the
catalogue, and every one-bug submission of tests/submissions/, loses points exactly in the
sections of the task its bug is in, and is told to fix that task first.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from grader import stubs
from grader.mutants import ALL_SECTIONS, MUTANTS, Mutant

KIT = Path(__file__).resolve().parent.parent
SUBMISSIONS = KIT / "tests" / "submissions"
"""One-bug and correct submissions written apart from the grader, each stating its verdict."""
HEADER = re.compile(r"^(task|loses|keeps):[ \t]*(.*)$", re.M)


@dataclass(frozen=True)
class Expected:
    """What grading one submission must give."""

    name: str
    task: str | None
    """The first entry of "What to fix" (None: a correct submission, nothing to fix)."""
    loses: tuple[str, ...]
    keeps: tuple[str, ...]


def expected_of(path: Path) -> Expected:
    """Read `task:`, `loses:` and `keeps:` lines from a submission's first docstring; with no
    `keeps:` line, every section not in `loses` must keep full marks."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells)
    elif path.is_file():
        text = path.read_text(encoding="utf-8")
    else:
        text = (path / "__init__.py").read_text(encoding="utf-8")
    fields = {key: value.strip() for key, value in HEADER.findall(text)}
    if "task" not in fields:
        raise ValueError(f"{path.name} states no `task:` line")

    def sections(key: str) -> tuple[str, ...]:
        return tuple(s.strip() for s in fields.get(key, "").split(",") if s.strip())

    task, loses = fields["task"].strip(), sections("loses")
    keeps = sections("keeps") or tuple(s for s in ALL_SECTIONS if s not in loses)
    return Expected(path.stem, None if task == "none" else task, loses, keeps)


def one_bug_submissions() -> list[Path]:
    """tests/submissions/one_bug/ and correct/, where this kit has its tests."""
    return sorted(
        p
        for folder in ("one_bug", "correct")
        for p in (SUBMISSIONS / folder).glob("*")
        if p.suffix in (".py", ".ipynb") or p.is_dir()
    )


def grade(path: Path, workdir: Path, *extra: str) -> dict:
    """Grade in a separate process, as a student or CI would, and return the report."""
    report = Path(tempfile.mkstemp(dir=workdir, prefix=f"{path.name}-", suffix=".json")[1])
    subprocess.run(
        [sys.executable, "-m", "grader", str(path), "--json", str(report), "-q", *extra],
        check=False,
        capture_output=True,
        cwd=KIT,
    )
    return json.loads(report.read_text(encoding="utf-8"))


def section_scores(report: dict) -> dict[str, tuple[float, float]]:
    return {s["id"]: (s["score"], s["max_score"]) for s in report["sections"]}


def check_mutant(mutant: Mutant, workdir: Path) -> tuple[bool, str]:
    """Graded once: loses points in every section of `loses`, none in `keeps`, and is told to
    fix its own task first."""
    try:
        path = mutant.apply(KIT / "solutions", workdir / mutant.name)
    except ValueError as exc:
        return False, str(exc)
    expected = Expected(mutant.name, mutant.task, mutant.loses, mutant.keeps)
    return verdict("mutant", expected, grade(path, workdir))


def check_submission(path: Path, workdir: Path) -> tuple[bool, str]:
    """A one-bug (or correct) submission of tests/submissions, against what it states."""
    try:
        expected = expected_of(path)
    except (OSError, ValueError) as exc:
        return False, f"submission {path.name}: {exc}"
    return verdict("submission", expected, grade(path, workdir))


def first_to_fix(report: dict) -> str | None:
    """The task of the first entry of "What to fix" (None: nothing to fix)."""
    return report["root_causes"][0]["task"] if report["root_causes"] else None


def verdict(kind: str, expected: Expected, report: dict) -> tuple[bool, str]:
    scores = section_scores(report)
    first = first_to_fix(report)
    not_lost = [s for s in expected.loses if scores[s][0] >= scores[s][1]]
    wrongly_lost = [s for s in expected.keeps if scores[s][0] < scores[s][1]]
    problems = [f"did not lose points in {', '.join(not_lost)}"] if not_lost else []
    problems += [f"lost points in {', '.join(wrongly_lost)}"] if wrongly_lost else []
    if first != expected.task:
        problems.append(f"was told to fix Task {first} first, not Task {expected.task}")
    label = f"{kind} {expected.name}"
    if problems:
        return False, f"{label}: {'; '.join(problems)}"
    if expected.task is None:
        return True, f"{label}: full marks, as a correct submission"
    lost = ", ".join(f"{s} {scores[s][0]:g}/{scores[s][1]:g}" for s in expected.loses)
    return True, f"{label}: caught in Task {expected.task} ({lost}); kept the other sections"


def run(
    jobs: int, mutants: tuple[Mutant, ...] = MUTANTS, submissions: list[Path] | None = None
) -> list[tuple[bool, str]]:
    submissions = one_bug_submissions() if submissions is None else submissions
    results = []
    stale = stubs.out_of_date(KIT / "solutions", KIT / "exercises")
    results.append(
        (
            not stale,
            "exercises in sync with solutions"
            if not stale
            else f"exercises out of date: {', '.join(stale)} (run python -m grader stubs)",
        )
    )
    results.append(expectations_in_sync())
    with tempfile.TemporaryDirectory(prefix="scratchgrad-check-") as tmp:
        workdir = Path(tmp)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            solutions = pool.submit(grade, KIT / "solutions", workdir, "--hidden")
            exercises = pool.submit(grade, KIT / "exercises", workdir)
            checked = [pool.submit(check_mutant, m, workdir) for m in mutants]
            checked += [pool.submit(check_submission, p, workdir) for p in submissions]
            full = solutions.result()
            results.append(
                (
                    full["score"] == full["max_score"] and not full["errors"],
                    f"solutions score {full['score']:g}/{full['max_score']:g} with hidden tests",
                )
            )
            stub_report = exercises.result()
            results.append(
                (
                    stub_report["score"] == 0,
                    f"stubs score {stub_report['score']:g}/{stub_report['max_score']:g}",
                )
            )
            results += [m.result() for m in checked]
    return results


def expectations_in_sync() -> tuple[bool, str]:
    """The shipped expectations are what torch gives for the suites' probes now."""
    from grader import expectations
    from grader.oracle import SHIPPED, installed_torch_version, read_expectations

    if installed_torch_version() is None:
        return False, "shipped expectations not checked: torch is not installed"
    problems = expectations.drift(expectations.compute(False, None), read_expectations(SHIPPED))
    if problems:
        return False, f"shipped expectations out of date: {'; '.join(problems)}"
    return True, "shipped expectations match torch"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader check", description="Self-check the kit before shipping it."
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="gradings to run at once (default: all cores)",
    )
    parser.add_argument(
        "--mutant",
        action="append",
        metavar="NAME",
        choices=[m.name for m in MUTANTS],
        help="check only these mutants, and no submission of tests/submissions "
        "(default: the whole catalogue and every submission)",
    )
    args = parser.parse_args(argv)
    chosen = tuple(m for m in MUTANTS if not args.mutant or m.name in args.mutant)
    results = run(args.jobs, chosen, [] if args.mutant else None)
    for ok, line in results:
        print(f"  {'ok  ' if ok else 'FAIL'}  {line}")
    failed = sum(not ok for ok, _ in results)
    print(
        f"\n{'Kit check passed' if not failed else 'Kit check FAILED'}: "
        f"{len(results) - failed} of {len(results)} checks passed."
    )
    return 0 if not failed else 1
