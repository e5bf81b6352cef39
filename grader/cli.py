"""Command line: `python -m grader [PATH] ...` and the instructor subcommands."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from grader import __version__, export
from grader.oracle import default_cache_dir
from grader.pipeline import SECTION_IDS, Options, check_oracle, course_seed, grade
from grader.report import Report, render, write_json, write_text_atomic
from grader.submission import UsageError
from grader.worker import Limits

EXIT_OK, EXIT_BELOW_THRESHOLD, EXIT_USAGE = 0, 1, 2
SUBCOMMANDS = {
    "explain": ("grader.explain", "main"),
    "stubs": ("grader.stubs", "main"),
    "batch": ("grader.batch", "main"),
    "release": ("grader.release", "main"),
    "gradescope-package": ("grader.release", "gradescope_main"),
    "check": ("grader.selfcheck", "main"),
    "expectations": ("grader.expectations", "main"),
}
"""Subcommand -> (module, function taking the remaining arguments)."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        module_name, function = SUBCOMMANDS[argv[0]]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            print(
                f"error: `{argv[0]}` is an instructor command; it is not part of this "
                "student release.",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return getattr(module, function)(argv[1:])
    return grade_command(argv)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader",
        description="Grade a from-scratch autograd submission against PyTorch.",
        epilog="After grading: python -m grader explain TEST_ID (a failing graph, node by node). "
        "Instructor commands: python -m grader {stubs,check,expectations,release,"
        "gradescope-package,batch} --help",
    )
    p.add_argument(
        "path",
        nargs="?",
        default="exercises",
        type=Path,
        help="a package folder, a .py file or a .ipynb notebook (default: ./exercises)",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=Path("grader-report.json"),
        metavar="FILE",
        help="where to write the JSON report (default: grader-report.json)",
    )
    p.add_argument(
        "--gradescope",
        type=Path,
        metavar="FILE",
        help="also write Gradescope's results.json to FILE",
    )
    p.add_argument(
        "--classroom",
        action="store_true",
        help="print GitHub Classroom's Points line and hand the reporter its payload "
        "(the step output `result`, via $GITHUB_OUTPUT)",
    )
    p.add_argument("--junit-xml", type=Path, metavar="FILE", help="also write JUnit XML to FILE")
    p.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="also write a Markdown summary to FILE (e.g. for $GITHUB_STEP_SUMMARY)",
    )
    p.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write a feedback page to FILE: your failing graphs and loss curves, drawn",
    )
    p.add_argument(
        "--fail-under", type=float, metavar="N", help="exit with status 1 when the score is below N"
    )
    p.add_argument(
        "--section",
        action="append",
        choices=SECTION_IDS,
        metavar="ID",
        help=f"grade only these sections ({', '.join(SECTION_IDS)}); repeatable",
    )
    p.add_argument(
        "--hidden",
        action="store_true",
        help="also run the hidden tests (instructor's copy and autograder only; "
        "their inputs come from the course's secret seed)",
    )
    p.add_argument(
        "--course",
        type=Path,
        metavar="FILE",
        help="the instructor's course file holding secret_seed (default: course.json)",
    )
    p.add_argument(
        "--expectations",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="read expected values from DIR first (written by `python -m grader expectations "
        "--out DIR`, e.g. the hidden tests' on the course's autograder)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="compute every expectation with torch: no shipped expectations, no cache",
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a sandbox limit, e.g. --limit request_timeout_s=10 (see docs/grading.md)",
    )
    verbosity = p.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show every case that did not pass, with code that reproduces a failing graph",
    )
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only the score line")
    p.add_argument("--version", action="version", version=f"scratchgrad {__version__}")
    return p


def grade_command(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        options = Options(
            sections=tuple(s for s in SECTION_IDS if s in (args.section or SECTION_IDS)),
            limits=parse_limits(args.limit),
            cache_dir=None if args.no_cache else default_cache_dir(),
            run_hidden=args.hidden,
            secret_seed=course_seed(args.course) if args.hidden else None,
            expectations=tuple(args.expectations),
            torch_only=args.no_cache,
        )
        check_oracle(options)
        report = grade(args.path, options)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    write_outputs(report, args)
    if args.quiet:
        print(f"Score: {report.score:g}/{report.max_score:g}")
    else:
        print(render(report, verbose=args.verbose))
        print(f"Report written to {args.json}")
    if any(e["kind"] == "grader" for e in report.errors):
        print(
            "error: the grader itself failed on some tests (see the report's errors); "
            "please tell your instructor.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.fail_under is not None and report.score < args.fail_under:
        return EXIT_BELOW_THRESHOLD
    return EXIT_OK


def write_outputs(report: Report, args: argparse.Namespace) -> None:
    """The native JSON always; each other format when asked, all from the same report."""
    write_json(report, args.json)
    native = report.to_json()
    if args.gradescope:
        write_text_atomic(args.gradescope, json.dumps(export.gradescope(native), indent=2) + "\n")
    if args.junit_xml:
        write_text_atomic(args.junit_xml, export.junit_xml(native))
    if args.markdown:
        write_text_atomic(args.markdown, export.markdown(native))
    if args.html:
        from grader import html

        try:
            page = html.render(native)
        except Exception as exc:  # the report and the other outputs are written already
            print(f"error: the feedback page could not be drawn: {exc!r:.200}", file=sys.stderr)
            page = html.unavailable(exc)
        write_text_atomic(args.html, page)
    if args.classroom:
        payload, points = export.classroom(native)
        print(points)
        github_output = os.environ.get("GITHUB_OUTPUT")
        if github_output:
            with open(github_output, "a", encoding="utf-8") as f:
                f.write(f"result={payload}\n")


def parse_limits(pairs: list[str]) -> Limits:
    """`name=value` overrides of Limits, typed like the field they set."""
    limits = Limits()
    types = {f.name: type(getattr(limits, f.name)) for f in fields(Limits)}
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in types:
            raise UsageError(f"Unknown limit {name!r}. Known limits: {', '.join(types)}.")
        try:
            changes[name] = (
                tuple(v for v in value.split(",") if v)
                if types[name] is tuple
                else json.loads(value.lower())
                if types[name] is bool
                else types[name](value)
            )
        except ValueError:
            raise UsageError(
                f"Limit {name} needs a value of type {types[name].__name__}, got {value!r}."
            ) from None
    return replace(limits, **changes)
