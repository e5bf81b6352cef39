"""`python -m grader expectations`: compute with torch every expected value the suites use.

The public suites' expectations are shipped with the grader (grader/expected_values.json),
so that students grade without torch; a test fails when they drift from what torch gives.
The course's autograder computes the hidden tests' expectations once, with the secret seed,
into a folder it then passes to every grading (`--expectations DIR`).

Every probe is asked of torch by grading the reference solutions with a recording oracle:
they pass every test, so every expectation is asked for.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from grader.oracle import (
    EXPECTATIONS_FILE,
    SHIPPED,
    Oracle,
    installed_torch_version,
    read_expectations,
    write_expectations,
)
from grader.pipeline import Options, course_seed, grade
from grader.submission import UsageError

KIT = Path(__file__).resolve().parent.parent
DRIFT = 1e-13
"""Relative difference between two torch builds' answers that is not drift."""


def compute(hidden: bool, secret_seed: int | None) -> dict[str, dict]:
    """Every expectation the suites ask for (hidden ones too, with `hidden`), from torch."""
    record: dict[str, dict] = {}
    public = Oracle(None, shipped=False, record=record)
    secret = Oracle(None, shipped=False, record=record)
    report = grade(
        KIT / "solutions",
        Options(run_hidden=hidden, secret_seed=secret_seed),
        oracles=(public, secret),
    )
    if report.score != report.max_score or report.errors:
        problems = [c.message for c in report.root_causes][:3] + [
            e["message"] for e in report.errors
        ]
        raise SystemExit(
            "error: the reference solutions do not pass every test, so some expectations "
            f"would be missing: {'; '.join(problems)}"
        )
    return record


def drift(computed: dict[str, dict], shipped: dict[str, dict]) -> list[str]:
    """What differs between two sets of expectations, in sentences."""
    problems = []
    missing, stale = computed.keys() - shipped.keys(), shipped.keys() - computed.keys()
    if missing:
        problems.append(f"{len(missing)} expectations the suites use are not shipped")
    if stale:
        problems.append(f"{len(stale)} shipped expectations are no longer used")
    changed = [k for k in computed.keys() & shipped.keys() if not same(computed[k], shipped[k])]
    if changed:
        problems.append(f"{len(changed)} expectations differ from what torch gives now")
    return problems


def same(a, b) -> bool:
    """Equal JSON values, numbers within DRIFT."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= DRIFT * abs(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    return a == b


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m grader expectations",
        description="Compute with torch every expected value the grader's suites use.",
    )
    p.add_argument("--check", action="store_true", help="only report drift from what is shipped")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"write DIR/{EXPECTATIONS_FILE} instead of the shipped file (for --hidden)",
    )
    p.add_argument(
        "--hidden", action="store_true", help="the hidden tests' too (needs the secret seed)"
    )
    p.add_argument("--course", type=Path, metavar="FILE", help="the course file with secret_seed")
    args = p.parse_args(argv)
    if installed_torch_version() is None:
        print(
            "error: computing expectations needs torch: pip install 'scratchgrad[oracle]' "
            "(see README.md for the CPU-only build on Linux)",
            file=sys.stderr,
        )
        return 2
    if not (KIT / "solutions").is_dir():
        print("error: this needs the instructor's copy, with solutions/.", file=sys.stderr)
        return 2
    try:
        seed = course_seed(args.course) if args.hidden else None
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.hidden and seed is None:
        print("error: --hidden needs the course's secret_seed (course.json).", file=sys.stderr)
        return 2
    if args.hidden and args.out is None:
        print("error: hidden expectations are never shipped: pass --out DIR.", file=sys.stderr)
        return 2
    computed = compute(args.hidden, seed)
    if args.check:
        problems = drift(computed, read_expectations(SHIPPED))
        for problem in problems:
            print(f"{SHIPPED}: {problem}.")
        if problems:
            print("Regenerate them with: python -m grader expectations")
            return 1
        print(f"The {len(computed)} shipped expectations match torch {installed_torch_version()}.")
        return 0
    target = SHIPPED if args.out is None else args.out / EXPECTATIONS_FILE
    write_expectations(target, computed, installed_torch_version())
    print(f"Wrote {len(computed)} expectations to {target}.")
    return 0
