"""Grade hostile and broken submissions with the real command line, two at a time.

Each test is parametrized with a `Case`. Before the first test runs, the `gradings` fixture
starts every selected case (and the honest baseline it is compared with) in a pool of two
subprocesses that share one oracle cache, longest first; each test waits for what it needs.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from grader.stubs import build_module, build_notebook
from grader.worker_process import BASE_UID

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = Path(__file__).parent / "submissions"
PARALLEL_GRADINGS = 2
TOKEN = f"hostile-token-{secrets.token_hex(8)}"
"""Put in the grader's environment; no report may contain it."""
SECRET = f"hostile-secret-{secrets.token_hex(8)}"
"""The content of files the worker must not read."""
RUN_GRADER = """
import re, resource, sys
from grader.cli import main
status = main(sys.argv[1:])
try:
    with open("/proc/self/status", encoding="ascii") as status_file:
        peak_kb = int(re.search(r"^VmHWM:\\s+(\\d+) kB", status_file.read(), re.M).group(1))
except OSError:  # no /proc: the peak of this process or of the one it was forked from
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_kb //= 1024 if sys.platform == "darwin" else 1  # bytes there
print("peak_rss_kb", peak_kb, file=sys.stderr)
sys.exit(status)
"""
"""`python -m grader`, plus the grader process's own peak memory on stderr: VmHWM, sampled as
it ends. Not ru_maxrss, which Linux carries over fork and exec: it would be pytest's peak, with
torch loaded."""


@dataclass(frozen=True)
class Case:
    """One grading: what to grade, with which arguments, within what time, against what."""

    name: str
    """Also the folder the submission is built in."""
    build: Callable[[Path], Path] = field(compare=False)
    """Writes the submission into the given folder; returns the path to pass to the grader."""
    args: tuple[str, ...] = ()
    """Extra command-line arguments (--section, --limit)."""
    bound_s: float = 45.0
    """Grading must finish within this many seconds."""
    baseline: Case | None = None
    """The same code without the attack, graded with the same arguments."""
    from_inside: bool = False
    """Run the grader with the submission folder as the working directory."""


@dataclass(frozen=True)
class Grading:
    """One finished `python -m grader` run."""

    returncode: int
    stdout: str
    stderr: str
    report: dict | None
    report_text: str
    duration_s: float
    peak_rss_mb: float
    worker_uid: int | None
    """The workers' own user (root only): BASE_UID + the grader's pid."""
    survivors: tuple[int, ...]
    """Processes of the worker's own user still alive after grading (root only)."""

    @property
    def score(self) -> float:
        assert self.report is not None, self.stderr
        return self.report["score"]

    def section_score(self, section_id: str) -> float:
        assert self.report is not None
        return next((s["score"] for s in self.report["sections"] if s["id"] == section_id), 0.0)

    def tests(self) -> list[dict]:
        assert self.report is not None
        return [test for section in self.report["sections"] for test in section["tests"]]

    def messages(self) -> str:
        """Every test's feedback and every error, one per line."""
        assert self.report is not None
        return "\n".join(
            [t["feedback"] for t in self.tests()]
            + [f"{e['kind']}: {e['message']}" for e in self.report["errors"]]
        )

    @property
    def output(self) -> str:
        assert self.report is not None
        return self.report["student_output"]["text"]


class Gradings:
    """The pool that grades cases, each once, two at a time, with one shared oracle cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cache = folder / "oracle-cache"
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL_GRADINGS)
        self._futures: dict[str, Future[Grading]] = {}
        self._env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SCRATCHGRAD_", "PYTEST_"))
        }
        self._env.update(SCRATCHGRAD_CACHE=str(self.cache), SCRATCHGRAD_HOSTILE_TOKEN=TOKEN)

    def start(self, cases: list[Case]) -> None:
        """Start every case and baseline not yet started, longest first."""
        every = {c.name: c for case in cases for c in (case, case.baseline) if c is not None}
        for case in sorted(every.values(), key=lambda c: -c.bound_s):
            if case.name not in self._futures:
                self._futures[case.name] = self._pool.submit(self._grade, case)

    def __getitem__(self, case: Case) -> Grading:
        self.start([case])
        return self._futures[case.name].result()

    def _grade(self, case: Case) -> Grading:
        folder = self.folder / case.name
        folder.mkdir()
        path = case.build(folder)
        report = folder / "report.json"
        command = [
            sys.executable,
            "-c",
            RUN_GRADER,
            str(path),
            "--json",
            str(report),
            "-q",
            *case.args,
        ]
        clock = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=path if case.from_inside else folder,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout, stderr = process.communicate(timeout=300)
        duration = time.monotonic() - clock
        text = report.read_text(encoding="utf-8") if report.exists() else ""
        peak = re.search(r"peak_rss_kb (\d+)", stderr)
        uid = BASE_UID + process.pid if os.geteuid() == 0 else None
        return Grading(
            process.returncode,
            stdout,
            stderr,
            json.loads(text) if text else None,
            text,
            duration,
            int(peak.group(1)) / 1024 if peak else 0.0,
            uid,
            _survivors(uid),
        )

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def _survivors(uid: int | None) -> tuple[int, ...]:
    """Live processes of the worker's own user, if any, after giving killed ones a moment to
    be reaped."""
    if uid is None:
        return ()
    for _attempt in range(20):
        alive = tuple(pid for pid, owner, state in _processes() if owner == uid and state != "Z")
        if not alive:
            return ()
        time.sleep(0.1)
    return alive


def _processes() -> Iterator[tuple[int, int, str]]:
    """(pid, real uid, state) of every process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
            state = re.search(r"^State:\s+(\S)", status, re.M).group(1)
            yield int(entry.name), uid, state


KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_JOIN_SESSION_KEYRING = 1


def share_a_session_keyring() -> None:
    """Give this process a new session keyring, inherited by every grading started from it and
    by their workers, as in a container or a systemd service (Linux). Call it before any thread
    starts: threads copy it when they are made."""
    if sys.platform.startswith("linux") and os.uname().machine in KEYCTL:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall(KEYCTL[os.uname().machine], KEYCTL_JOIN_SESSION_KEYRING, None)


@cache
def reference_module() -> str:
    return build_module(REPO / "solutions", solutions=True)


@cache
def stubs_module() -> str:
    return build_module(REPO / "solutions", solutions=False)


@cache
def reference_notebook() -> dict:
    return dict(build_notebook(REPO / "solutions", solutions=True))


@cache
def secrets_folder() -> Path:
    """A folder anyone may read (0755, files 0644): only the sandbox keeps the worker out."""
    folder = Path(tempfile.mkdtemp(prefix="scratchgrad-hostile-secrets-"))
    folder.chmod(0o755)
    for name in ("secret.txt", "other-submission/engine.py"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(f"{SECRET}\n", encoding="utf-8")
        (folder / name).chmod(0o644)
    (folder / "other-submission").chmod(0o755)
    return folder


def writes(name: str, content: Callable[[], str | bytes]) -> Callable[[Path], Path]:
    """A `Case.build` that writes `content()` to a file called `name`."""

    def build(folder: Path) -> Path:
        path, data = folder / name, content()
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    return build


REFERENCE = Case("reference", writes("reference.py", reference_module))
"""The reference solution as one module, graded in full: the baseline of most attacks."""
STUBS = Case("stubs", writes("stubs.py", stubs_module))
"""The untouched stubs as one module, graded in full."""
