"""`python -m grader check`: the kit checks itself before an instructor ships it.

The exercises are in sync with the solutions, the solutions earn every point (hidden tests
too), the stubs earn none, and every mutant in the catalogue loses points exactly in the
sections its bug touches.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader import stubs
from grader.mutants import MUTANTS, Mutant

KIT = Path(__file__).resolve().parent.parent


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
    """Graded once: loses points in every section of `loses`, none in `keeps`."""
    try:
        path = mutant.apply(KIT / "solutions", workdir / mutant.name)
    except ValueError as exc:
        return False, str(exc)
    scores = section_scores(grade(path, workdir))
    not_lost = [s for s in mutant.loses if scores[s][0] >= scores[s][1]]
    wrongly_lost = [s for s in mutant.keeps if scores[s][0] < scores[s][1]]
    lost = ", ".join(f"{s} {scores[s][0]:g}/{scores[s][1]:g}" for s in mutant.loses)
    if not_lost or wrongly_lost:
        problems = [f"did not lose points in {', '.join(not_lost)}"] if not_lost else []
        problems += [f"lost points in {', '.join(wrongly_lost)}"] if wrongly_lost else []
        return False, f"mutant {mutant.name}: {'; '.join(problems)}"
    return True, f"mutant {mutant.name}: caught ({lost}); kept {', '.join(mutant.keeps)}"


def run(jobs: int, mutants: tuple[Mutant, ...] = MUTANTS) -> list[tuple[bool, str]]:
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
    with tempfile.TemporaryDirectory(prefix="scratchgrad-check-") as tmp:
        workdir = Path(tmp)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            solutions = pool.submit(grade, KIT / "solutions", workdir, "--hidden")
            exercises = pool.submit(grade, KIT / "exercises", workdir)
            checked = [pool.submit(check_mutant, m, workdir) for m in mutants]
            full = solutions.result()
            extra = [s for s in full["sections"] if s["extra_credit"]]
            complete = full["score"] == full["max_score"] and all(
                s["score"] == s["max_score"] for s in extra
            )
            results.append(
                (
                    complete,
                    f"solutions score {full['score']:g}/{full['max_score']:g}"
                    f" with hidden tests, extra credit "
                    f"{sum(s['score'] for s in extra):g}/"
                    f"{sum(s['max_score'] for s in extra):g}",
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
        help="check only these mutants (default: the whole catalogue)",
    )
    args = parser.parse_args(argv)
    chosen = tuple(m for m in MUTANTS if not args.mutant or m.name in args.mutant)
    results = run(args.jobs, chosen)
    for ok, line in results:
        print(f"  {'ok  ' if ok else 'FAIL'}  {line}")
    failed = sum(not ok for ok, _ in results)
    print(
        f"\n{'Kit check passed' if not failed else 'Kit check FAILED'}: "
        f"{len(results) - failed} of {len(results)} checks passed."
    )
    return 0 if not failed else 1
