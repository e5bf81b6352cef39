"""Batch grading: every entry of a folder, each in a fresh process forked from a warm harness.

`main` reads each entry (a folder, .py, .ipynb, or a .zip of one) into bytes (`entries`),
skips those whose result is up to date, and grades the rest: locally, each job slot owns a
long-lived grading server (`harness`, `forkserver`) that forks one child per entry; on Dask,
each worker keeps such servers too (`cluster`). Each entry leaves `reports/<id>.json` (the
native report) and `results/<id>.json` (status, content hash, grader version); `gradebook`
rebuilds gradebook.csv, the LMS grade files (`lms`) and the summary from those files, so an
interrupted batch resumes where it stopped.
"""

import argparse
import contextlib
import os
import pathlib
import signal
import sys
import tempfile

from grader import pipeline, protocol, report, submission, worker_process
from grader.batch import entries, forkserver, gradebook, harness, lms, progress

__all__ = ["main"]

_EXIT_OK, _EXIT_USAGE = 0, 2


class _Stopped(Exception):
    """SIGINT or SIGTERM arrived: stop grading, keep what is finished."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader batch", description="Grade every submission in DIR into a gradebook."
    )
    p.add_argument(
        "dir",
        type=pathlib.Path,
        metavar="DIR",
        help="one submission per entry: a folder, "
        ".py, .ipynb or a .zip of one (an LMS download: see docs/batch.md)",
    )
    p.add_argument(
        "--out",
        type=pathlib.Path,
        required=True,
        metavar="OUTDIR",
        help="where gradebook.csv, reports/ and results/ go",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="submissions graded at once (default: the number of CPUs)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask cluster, e.g. tcp://10.0.0.5:8786 (see docs/batch.md)",
    )
    p.add_argument(
        "--scheduler-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the scheduler to answer and for its first worker "
        "(default: %(default)g)",
    )
    p.add_argument(
        "--section",
        action="append",
        choices=pipeline.SECTION_IDS,
        metavar="ID",
        help=f"grade only these sections ({', '.join(pipeline.SECTION_IDS)}); repeatable",
    )
    p.add_argument(
        "--hidden",
        action="store_true",
        help="also run the hidden tests, with the course's secret seed",
    )
    p.add_argument(
        "--course",
        type=pathlib.Path,
        metavar="FILE",
        help="the course file holding secret_seed (default: course.json)",
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a sandbox limit, as for python -m grader (docs/grading.md)",
    )
    p.add_argument(
        "--expectations",
        action="append",
        default=[],
        type=pathlib.Path,
        metavar="DIR",
        help="read expected values from DIR first (written by `python -m grader expectations "
        "--hidden --out DIR`: the hidden tests' values, without torch); repeatable",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="compute every expectation with torch: no shipped expectations, no cache",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=forkserver.Settings.timeout_s,
        metavar="SECONDS",
        help="wall-clock limit of one grading (default: %(default)g)",
    )
    p.add_argument(
        "--html",
        action="store_true",
        help="also write reports/<id>.html, each student's feedback page",
    )
    p.add_argument(
        "--canvas-assignment",
        default="scratchgrad",
        metavar="TITLE",
        help="the assignment column of canvas_grades.csv, as in Canvas' own export: "
        "'Homework 3 (123456)' (default: %(default)s)",
    )
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except submission.UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _EXIT_USAGE
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    tally = {"done": 0, "todo": 0}
    try:
        for signum in handlers:
            signal.signal(signum, _stop)
        return _run(args, settings, tally)
    except _Stopped as stop:
        print(
            f"Stopped by {stop}: {tally['done']} of {tally['todo']} gradings finished and kept. "
            f"Run the same command again to grade the rest.",
            file=sys.stderr,
        )
        return 128 + stop.signum
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def _settings(args: argparse.Namespace) -> forkserver.Settings:
    """Check the arguments and turn them into the settings every grading uses."""
    if not args.dir.is_dir():
        raise submission.UsageError(
            f"{args.dir} is not a folder. Pass the folder that holds one submission per entry: "
            "python -m grader batch submissions/ --out graded/"
        )
    if not hasattr(os, "fork"):
        raise submission.UsageError(
            "batch grading forks a process per entry: run it on Linux or macOS."
        )
    from grader.cli import parse_limits

    parse_limits(args.limit)  # a typo stops the batch here, not in every grading
    settings = forkserver.Settings(
        sections=tuple(
            s for s in pipeline.SECTION_IDS if s in (args.section or pipeline.SECTION_IDS)
        ),
        limits=tuple(args.limit),
        run_hidden=args.hidden,
        secret_seed=pipeline.course_seed(args.course) if args.hidden else None,
        expectations=tuple(str(path.resolve()) for path in args.expectations),
        no_cache=args.no_cache,
        timeout_s=args.timeout,
    )
    pipeline.check_oracle(settings.options())
    return settings


def _stop(signum: int, frame: object) -> None:
    for other in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut cleanup short
        signal.signal(other, signal.SIG_IGN)
    raise _Stopped(signum)


def _run(args: argparse.Namespace, settings: forkserver.Settings, tally: dict[str, int]) -> int:
    out: pathlib.Path = args.out
    skipped = {lms.METADATA, "__pycache__"}
    names = sorted(
        e.name
        for e in args.dir.iterdir()
        if not e.name.startswith(".") and e.name not in skipped and e.absolute() != out.absolute()
    )
    todo, unreadable = [], 0
    for name in names:
        try:
            entry = entries.pack(args.dir / name)
        except entries.Refused as exc:  # refused for good, like a zip
            gradebook.record(out, name, None, harness.failure(f"refused: {exc}"))
            unreadable += 1
            continue
        except Exception as exc:  # unreadable, vanished, a tree too deep to walk, ...
            why = f"could not read the entry ({entries.error_text(exc)})"
            gradebook.record(out, name, None, harness.failure(why))
            unreadable += 1
            continue
        if not gradebook.up_to_date(out, entry):
            todo.append(entry)
    print(
        f"{len(names)} submissions in {protocol.printable(str(args.dir), 300)}: "
        f"{len(names) - len(todo) - unreadable} unchanged since the last run (skipped), "
        f"{unreadable} not gradable, {len(todo)} to grade",
        flush=True,
    )
    tally["todo"] = len(todo)
    bar = progress.Progress(len(todo))
    root = pathlib.Path(tempfile.mkdtemp(prefix="scratchgrad-batch-"))
    try:
        if args.scheduler:
            from grader.batch import cluster

            pool: harness.LocalPool | cluster.DaskPool = cluster.DaskPool(
                args.scheduler, settings, args.scheduler_timeout
            )
        else:
            pool = harness.LocalPool(max(1, args.jobs), settings, root)
        with pool:
            for entry, outcome in pool.results(todo):
                gradebook.record(out, entry.id, entry, outcome, html=args.html)
                tally["done"] += 1
                bar.step(entry.id, outcome["status"])
    except _Stopped:
        bar.interrupted()
        raise
    except submission.UsageError as exc:  # no Dask, or a scheduler that is not there
        print(f"error: {exc}", file=sys.stderr)
        return _EXIT_USAGE
    finally:
        with contextlib.suppress(OSError):
            worker_process.remove_tree(root)
    rows = gradebook.rebuild(out, names, args.dir, args.canvas_assignment)
    text = gradebook.summary(rows, out)
    report.write_text_atomic(out / "summary.txt", text + "\n")
    print(text)
    return _EXIT_OK
