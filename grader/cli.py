"""Command line: `python -m grader [PATH] ...` and the instructor subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields, replace
from pathlib import Path

from grader import __version__
from grader.oracle import default_cache_dir
from grader.pipeline import SECTION_IDS, Options, grade
from grader.report import render, write_json
from grader.submission import UsageError
from grader.worker import Limits

SUBCOMMANDS = ("stubs",)
EXIT_OK, EXIT_BELOW_THRESHOLD, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "stubs":
        from grader import stubs

        return stubs.main(argv[1:])
    return grade_command(argv)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader",
        description="Grade a from-scratch autograd submission against PyTorch.",
        epilog="Instructor commands: python -m grader stubs [--check]",
    )
    p.add_argument("path", nargs="?", default="exercises", type=Path,
                   help="a package folder, a .py file or a .ipynb notebook (default: ./exercises)")
    p.add_argument("--json", type=Path, default=Path("grader-report.json"), metavar="FILE",
                   help="where to write the JSON report (default: grader-report.json)")
    p.add_argument("--fail-under", type=float, metavar="N",
                   help="exit with status 1 when the score is below N")
    p.add_argument("--section", action="append", choices=SECTION_IDS, metavar="ID",
                   help=f"grade only these sections ({', '.join(SECTION_IDS)}); repeatable")
    p.add_argument("--no-cache", action="store_true",
                   help="compute every expectation with torch instead of the oracle cache")
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="override a sandbox limit, e.g. --limit request_timeout_s=10 "
                        "(see docs/grading.md)")
    verbosity = p.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true",
                           help="show every failing case, not just the first of each test")
    verbosity.add_argument("-q", "--quiet", action="store_true",
                           help="print only the score line")
    p.add_argument("--version", action="version", version=f"scratchgrad {__version__}")
    return p


def grade_command(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        options = Options(
            sections=tuple(s for s in SECTION_IDS if s in (args.section or SECTION_IDS)),
            limits=parse_limits(args.limit),
            cache_dir=None if args.no_cache else default_cache_dir(),
        )
        report = grade(args.path, options)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    write_json(report, args.json)
    if args.quiet:
        print(f"Score: {report.score:g}/{report.max_score:g}")
    else:
        print(render(report, verbose=args.verbose))
        print(f"Report written to {args.json}")
    if any(e["kind"] == "grader" for e in report.errors):
        print("error: the grader itself failed on some tests (see the report's errors); "
              "please tell your instructor.", file=sys.stderr)
        return EXIT_USAGE
    if args.fail_under is not None and report.score < args.fail_under:
        return EXIT_BELOW_THRESHOLD
    return EXIT_OK


def parse_limits(pairs: list[str]) -> Limits:
    """`name=value` overrides of Limits, typed like the field they set."""
    limits = Limits()
    types = {f.name: type(getattr(limits, f.name)) for f in fields(Limits)}
    changes: dict[str, object] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in types:
            raise UsageError(f"Unknown limit {name!r}. Known limits: {', '.join(types)}.")
        try:
            changes[name] = tuple(v for v in value.split(",") if v) if types[name] is tuple \
                else json.loads(value.lower()) if types[name] is bool else types[name](value)
        except ValueError:
            raise UsageError(f"Limit {name} needs a {types[name].__name__}, got {value!r}.")
    return replace(limits, **changes)
