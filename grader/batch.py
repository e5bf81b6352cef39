"""Batch grading: every entry of a folder, each in its own `python -m grader` process.

Each entry (a folder, .py, .ipynb, or a .zip of one) is packed into bytes, graded from those
bytes in a temporary folder, and leaves `reports/<id>.json` (the native report) and
`results/<id>.json` (status, content hash, grader version). The gradebook is rebuilt from those
files at the end, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import grader
from grader.entries import Entry, Refused, pack, unpack
from grader.gradebook import gradebook, record, summary, up_to_date
from grader.pipeline import SECTION_IDS
from grader.report import write_text_atomic


@dataclass(frozen=True)
class Settings:
    """How each submission is graded; shipped to Dask workers with the task."""

    sections: tuple[str, ...] = SECTION_IDS
    """Section ids to grade."""
    no_cache: bool = False
    """Compute every expectation with torch (python -m grader --no-cache)."""
    timeout_s: float = 900.0
    """Wall-clock limit of one grading, after which its process is killed."""


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m grader batch", description="Grade every submission in DIR into a gradebook."
    )
    p.add_argument(
        "dir",
        type=Path,
        metavar="DIR",
        help="one submission per entry: a folder, .py, .ipynb or a .zip of one",
    )
    p.add_argument(
        "--out",
        type=Path,
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
        "--section",
        action="append",
        choices=SECTION_IDS,
        metavar="ID",
        help="grade only these sections; repeatable",
    )
    p.add_argument("--no-cache", action="store_true", help="passed on to python -m grader")
    p.add_argument(
        "--timeout",
        type=float,
        default=Settings.timeout_s,
        metavar="SECONDS",
        help="wall-clock limit of one grading (default: %(default)g)",
    )
    args = p.parse_args(argv)
    if not args.dir.is_dir():
        print(
            f"error: {args.dir} is not a folder. Pass the folder that holds one submission "
            "per entry: python -m grader batch submissions/ --out graded/",
            file=sys.stderr,
        )
        return 2
    settings = Settings(
        tuple(s for s in SECTION_IDS if s in (args.section or SECTION_IDS)),
        args.no_cache,
        args.timeout,
    )
    out = args.out
    names = sorted(
        e.name
        for e in args.dir.iterdir()
        if not e.name.startswith(".") and e.name != "__pycache__" and e.resolve() != out.resolve()
    )
    todo, refused = [], {}
    for name in names:
        try:
            entry = pack(args.dir / name)
        except Refused as exc:
            refused[name] = str(exc)
            continue
        if not up_to_date(out, entry):
            todo.append(entry)
    for name, why in refused.items():
        record(
            out, name, None, {"status": f"error: refused: {why}", "report": None, "duration_s": 0.0}
        )
    print(
        f"{len(names)} submissions in {args.dir}: {len(names) - len(todo) - len(refused)} "
        f"unchanged since the last run (skipped), {len(todo)} to grade",
        flush=True,
    )
    progress = Progress(len(todo))
    if args.scheduler:
        try:
            outcomes = _on_dask(args.scheduler, todo, settings)
        except ImportError:
            print("error: --scheduler needs Dask: pip install scratchgrad[dask]", file=sys.stderr)
            return 2
    else:
        outcomes = _locally(max(1, args.jobs), todo, settings)
    for entry, outcome in outcomes:
        record(out, entry.id, entry, outcome)
        progress.step(entry.id, outcome["status"])
    rows = gradebook(out, names)
    text = summary(rows, out)
    write_text_atomic(out / "summary.txt", text + "\n")
    print(text)
    return 0


def grade_entry(entry: Entry, settings: Settings) -> dict:
    """Grade one entry from its bytes in a fresh grader process: {status, report, duration_s}."""
    clock = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scratchgrad-batch-") as tmp:
        # The entry goes in a folder of its own and the grader runs from an empty one: `python
        # -m` puts its working folder first on sys.path, and a student's textwrap.py there
        # would run inside the grader.
        (Path(tmp) / "entry").mkdir()
        (Path(tmp) / "run").mkdir()
        try:
            path = unpack(entry, Path(tmp) / "entry")
        except Refused as exc:
            return {"status": f"error: refused: {exc}", "report": None, "duration_s": 0.0}
        report_file = Path(tmp, "report.json")
        command = [
            sys.executable,
            "-m",
            "grader",
            str(path),
            "--json",
            str(report_file),
            "-q",
            *(arg for s in settings.sections for arg in ("--section", s)),
            *(["--no-cache"] if settings.no_cache else []),
        ]
        # The grader package must import from the temporary folder too (a source checkout).
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(Path(grader.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
            ),
            "TMPDIR": tmp,  # worker folders of a grading killed at its timeout go with it
        }
        try:
            done = subprocess.run(
                command,
                cwd=Path(tmp) / "run",
                env=env,
                capture_output=True,
                text=True,
                timeout=settings.timeout_s,
            )
        except subprocess.TimeoutExpired:
            return {
                "status": f"error: grading took over {settings.timeout_s:g} s and was stopped",
                "report": None,
                "duration_s": round(time.monotonic() - clock, 3),
            }
        report = json.loads(report_file.read_text()) if report_file.exists() else None
    if report is None:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        status = f"error: {last.removeprefix('error: ')}"
    elif done.returncode == 2:
        status = "error: the grader itself failed on some tests (see the report's errors)"
    else:
        status = "graded"
    if report is not None:
        report["submission"]["path"] = entry.id
    return {"status": status, "report": report, "duration_s": round(time.monotonic() - clock, 3)}


def _locally(jobs: int, entries: list[Entry], settings: Settings):
    """Threads that each wait on one grader process: N submissions at once."""
    with ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(grade_entry, e, settings): e for e in entries}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _on_dask(address: str, entries: list[Entry], settings: Settings):
    """One Dask task per submission; the task runs a grader process on the worker's machine."""
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    with Client(address) as client:
        futures = {
            client.submit(
                grade_entry, e, settings, pure=False, key=f"scratchgrad-{e.sha256[:16]}"
            ): e
            for e in entries
        }
        for future in dask_completed(futures):
            entry = futures[future]
            try:
                yield entry, future.result()
            except Exception as exc:  # a lost worker, a task killed by the scheduler
                yield (
                    entry,
                    {
                        "status": f"error: the Dask task failed: {exc!r}"[:300],
                        "report": None,
                        "duration_s": 0.0,
                    },
                )


class Progress:
    """done/total, rate and ETA: a redrawn bar on a terminal, one line per submission otherwise."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self, name: str, status: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        figures = f"{self.done}/{self.total}  {rate:.2f}/s  ETA {eta:.0f}s"
        if self.tty:
            filled = 30 * self.done // max(self.total, 1)
            end = "\n" if self.done == self.total else ""
            print(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {figures} ",
                end=end,
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"[{figures}] {name}: {status}", file=sys.stderr, flush=True)
