"""Batch grading: every entry of a folder, each in its own `python -m grader` process.

Each entry (a folder, .py, .ipynb, or a .zip of one) is packed into bytes, graded from those
bytes in a temporary folder, and leaves `reports/<id>.json` (the native report) and
`results/<id>.json` (status, content hash, grader version). The gradebook is rebuilt from those
files at the end, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import grader
from grader.pipeline import SECTION_IDS
from grader.report import write_text_atomic
from grader.submission import MAX_BYTES, SKIPPED

RESULT_SCHEMA = 1
MAX_MEMBERS = 1000
MAX_RATIO = 100
"""Largest compressed-to-uncompressed ratio of a zip member: beyond it, a zip bomb."""
COLUMNS = ("id", "score", "max_score", *SECTION_IDS, "status", "duration_s")


class Refused(Exception):
    """An entry that is not graded at all (unsafe zip, unknown file type); the message says why."""


@dataclass(frozen=True)
class Settings:
    """How each submission is graded; shipped to Dask workers with the task."""

    sections: tuple[str, ...] = SECTION_IDS
    """Section ids to grade."""
    no_cache: bool = False
    """Compute every expectation with torch (python -m grader --no-cache)."""
    timeout_s: float = 900.0
    """Wall-clock limit of one grading, after which its process is killed."""


@dataclass(frozen=True)
class Entry:
    """One submission of the batch, packed as bytes so any machine can grade it."""

    id: str
    """The entry's file or folder name."""
    kind: str
    """"folder" (data is a zip we made), "zip" (the student's zip) or "file" (.py, .ipynb)."""
    data: bytes
    sha256: str
    """Hash of kind, name and bytes: with the grader version, the resume key."""


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
        if not _up_to_date(out, entry):
            todo.append(entry)
    for name, why in refused.items():
        _record(
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
        _record(out, entry.id, entry, outcome)
        progress.step(entry.id, outcome["status"])
    rows = gradebook(out, names)
    text = summary(rows, out)
    write_text_atomic(out / "summary.txt", text + "\n")
    print(text)
    return 0


def pack(path: Path) -> Entry:
    """Read an entry into bytes: a folder becomes a deterministic zip of its files."""
    if path.is_dir():
        buffer, total = io.BytesIO(), 0
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for root, dirs, files in os.walk(path):
                skipped = SKIPPED(root, dirs + files)
                dirs[:] = sorted(d for d in dirs if d not in skipped)
                for name in sorted(f for f in files if f not in skipped):
                    file = Path(root, name)
                    if file.is_symlink():
                        continue
                    total += file.stat().st_size
                    if total > MAX_BYTES:
                        raise Refused(f"the folder holds more than {MAX_BYTES // 2**20} MB")
                    info = zipfile.ZipInfo(file.relative_to(path).as_posix())
                    zf.writestr(info, file.read_bytes(), zipfile.ZIP_DEFLATED)
        kind, data = "folder", buffer.getvalue()
    elif path.suffix in (".py", ".ipynb", ".zip") and path.is_file():
        if path.stat().st_size > MAX_BYTES:
            raise Refused(f"the file is larger than {MAX_BYTES // 2**20} MB")
        kind, data = ("zip" if path.suffix == ".zip" else "file"), path.read_bytes()
    else:
        raise Refused("not a folder, .py, .ipynb or .zip file")
    digest = hashlib.sha256(f"{kind}\0{path.name}\0".encode() + data).hexdigest()
    return Entry(path.name, kind, data, digest)


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


def unpack(entry: Entry, dest: Path) -> Path:
    """Write the entry under `dest`; return the path to grade."""
    if entry.kind == "file":
        (dest / entry.id).write_bytes(entry.data)
        return dest / entry.id
    root = dest / (entry.id if entry.kind == "folder" else "unzipped")
    extract_zip(entry.data, root)
    if entry.kind == "folder":
        return root
    top = [p for p in root.iterdir() if p.name != "__MACOSX" and not p.name.startswith(".")]
    if len(top) == 1 and (top[0].is_dir() or top[0].suffix in (".py", ".ipynb")):
        return top[0]
    return root


def extract_zip(data: bytes, root: Path) -> None:
    """Extract a zip into `root`, refusing zip slip, links and zip bombs before writing a byte."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Refused("the .zip file is damaged or not a zip file") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise Refused(f"the .zip holds {len(members)} files; at most {MAX_MEMBERS} allowed")
        if sum(m.file_size for m in members) > MAX_BYTES:
            raise Refused(f"the .zip unpacks to more than {MAX_BYTES // 2**20} MB (zip bomb?)")
        for m in members:
            name = PurePosixPath(m.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in m.filename or ":" in m.filename:
                raise Refused(f"the .zip member {m.filename!r} would land outside its folder")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise Refused(f"the .zip member {m.filename!r} is a symbolic link")
            if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
                raise Refused(
                    f"the .zip member {m.filename!r} is compressed over {MAX_RATIO}:1 (zip bomb?)"
                )
        root.mkdir(parents=True)
        for m in members:
            target = root.joinpath(*PurePosixPath(m.filename).parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, open(target, "wb") as dst:  # zipfile stops at file_size
                shutil.copyfileobj(src, dst)


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


def _up_to_date(out: Path, entry: Entry) -> bool:
    result = _read(out / "results" / f"{entry.id}.json")
    return (
        result is not None
        and result["entry_sha256"] == entry.sha256
        and result["grader"] == grader.__version__
        and (
            result["status"].startswith("error: refused")
            or result["status"] == "graded"
            and (out / "reports" / f"{entry.id}.json").exists()
        )
    )


def _record(out: Path, name: str, entry: Entry | None, outcome: dict) -> None:
    """Report first, result last: a result file means its report is whole."""
    if outcome["report"] is not None:
        write_text_atomic(
            out / "reports" / f"{name}.json", json.dumps(outcome["report"], indent=2) + "\n"
        )
    result = {
        "schema_version": RESULT_SCHEMA,
        "id": name,
        "entry_sha256": entry.sha256 if entry else None,
        "grader": grader.__version__,
        "status": outcome["status"],
        "duration_s": outcome["duration_s"],
        "report": f"reports/{name}.json" if outcome["report"] is not None else None,
    }
    write_text_atomic(out / "results" / f"{name}.json", json.dumps(result, indent=2) + "\n")


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def gradebook(out: Path, names: list[str]) -> list[dict]:
    """Rebuild gradebook.csv from results/ and reports/; return its rows with their reports."""
    rows = []
    for name in names:
        result = _read(out / "results" / f"{name}.json") or {
            "status": "error: not graded yet (interrupted?)",
            "duration_s": None,
            "report": None,
        }
        report = _read(out / result["report"]) if result["report"] else None
        sections = {s["id"]: s["score"] for s in report["sections"]} if report else {}
        rows.append(
            {
                "id": name,
                "score": report["score"] if report else None,
                "max_score": report["max_score"] if report else None,
                **{s: sections.get(s) for s in SECTION_IDS},
                "status": result["status"],
                "duration_s": result["duration_s"],
                "_report": report,
            }
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "gradebook.csv", buffer.getvalue())
    return rows


def summary(rows: list[dict], out: Path) -> str:
    """Mean, median, per-section means and the tests most submissions failed."""
    graded = [r for r in rows if r["_report"] is not None]
    lines = [
        f"Graded {len(graded)} of {len(rows)} submissions; "
        f"{len(rows) - len(graded)} could not be graded (see the status column)."
    ]
    if graded:
        scores = [r["score"] for r in graded]
        lines.append(
            f"Score: mean {statistics.mean(scores):.1f}, median "
            f"{statistics.median(scores):g} (of {graded[0]['max_score']:g})"
        )
        maxima = {s["id"]: s["max_score"] for r in graded for s in r["_report"]["sections"]}
        lines.append(
            "Per section (mean): "
            + ", ".join(
                f"{s} {statistics.mean(r[s] or 0 for r in graded):.1f}/{maxima[s]:g}"
                for s in SECTION_IDS
                if s in maxima
            )
        )
        failing = Counter(
            name
            for r in graded
            for name in {
                t["id"].split("[", 1)[0]
                for s in r["_report"]["sections"]
                for t in s["tests"]
                if t["status"] not in ("passed", "skipped")
            }
        )
        if failing:
            lines.append("Most common failing tests:")
            lines += [
                f"  {name}: failed by {n} of {len(graded)}" for name, n in failing.most_common(10)
            ]
    lines.append(f"Gradebook: {out / 'gradebook.csv'}")
    return "\n".join(lines)


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
