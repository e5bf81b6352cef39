"""The harness's side of the worker: start it confined, send requests, enforce time, clean up.

The worker is a separate Python process (`python -I -S`) in a fresh folder holding only a copy
of the submission. Requests go to its stdin and numbered replies come from its stdout, one JSON
line each; its prints go to stderr, kept in a capped log. A request that runs out of time kills
the worker and everything it started; the next request starts a new worker. docs/grading.md
describes the sandbox and every limit.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from grader import protocol
from grader.protocol import Load, ProtocolError, StudentError
from grader.submission import Submission
from grader.worker_process import (
    EOF,
    TOO_LONG,
    MemoryWatch,
    Output,
    Pipes,
    chown_tree,
    how_it_ended,
    kill,
    own_process_group,
    remove_tree,
    scrubbed_environment,
    site_packages,
    worker_uid,
)

SANDBOX_FILES = Path(__file__).parent / "sandbox"
START_TIMEOUT_S = 10.0
"""Time for a new worker to start and confine itself, before any student code runs."""


@dataclass(frozen=True)
class Limits:
    """Sandbox limits; every field can be set with `--limit name=value` (docs/grading.md)."""

    request_timeout_s: float = 5.0
    """Wall-clock time for one request (one test case) before the worker is killed."""
    import_timeout_s: float = 10.0
    """Wall-clock time to import the submission (top-level notebook demos run here)."""
    budget_s: float = 40.0
    """Wall-clock time the worker may spend on one submission; later tests are not run."""
    memory_mb: int = 1024
    """Address-space limit of each worker process (RLIMIT_AS); for a root grader, also the
    resident memory of all the worker's processes together (MemoryWatch)."""
    cpu_s: int = 120
    """CPU seconds for each worker process's whole life (RLIMIT_CPU)."""
    max_processes: int = 32
    """Processes and threads of the worker (RLIMIT_NPROC: as its own user or user namespace)."""
    max_file_mb: int = 16
    """Largest file the worker may write (RLIMIT_FSIZE)."""
    max_open_files: int = 64
    """Open file descriptors (RLIMIT_NOFILE)."""
    output_kb: int = 64
    """How much of the submission's printed output is kept for the report."""
    reply_mb: int = 4
    """Longest reply line read from the worker; a longer one is a protocol error."""
    forbidden_modules: tuple[str, ...] = ("torch", "numpy", "jax", "tensorflow")
    """Libraries the submission may not import (they would compute the gradients)."""
    site_packages: bool = False
    """Let the submission import installed packages (except the forbidden ones)."""
    isolate_network: bool = True
    """Run the worker in a new network namespace where the OS allows it."""
    confine_filesystem: bool = True
    """Landlock: the worker reads only the stdlib and its own folder (Linux >= 5.13)."""


class WorkerTimeout(Exception):
    """A request did not finish within its time; the worker was killed."""


class WorkerCrashed(Exception):
    """The worker process ended (exit, signal, killed) while answering a request."""


class BudgetExhausted(Exception):
    """The submission's total time budget is spent; no more requests are sent."""


class WorkerUnavailable(WorkerCrashed):
    """The worker could not start or confine itself: a problem of the grading machine."""


class Worker:
    """One submission's worker, started on first use and again after a timeout or crash."""

    def __init__(self, submission: Submission, limits: Limits) -> None:
        self.submission = submission
        self.limits = limits
        self.spent = 0.0
        """Wall-clock seconds of requests so far, worker starts included."""
        self.output = Output(limits.output_kb * 1024)
        self.limits_in_force: dict[str, bool] = {}
        self.load_reply: Load | None = None
        self.starts = 0
        self._uid = worker_uid()
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._seq = 0
        self._import_failure: StudentError | None = None
        self._greeted = False
        self._greeted_at = 0.0
        self._memory: MemoryWatch | None = None
        self._load_sent: float | None = None
        """When the load request of the running worker was sent, if its reply is awaited."""

    def start(self) -> None:
        """Start the worker and ask it to import the submission, without waiting: it does so
        while the grader loads its suites. `load()` collects the answer."""
        if self._process is None:
            self._spawn()
            self._send({"probe": "load"})
            self._load_sent = time.monotonic()

    def request(self, payload: dict, timeout_s: float | None = None) -> dict:
        """Send one request and return the worker's parsed reply object."""
        if self.spent >= self.limits.budget_s:
            raise BudgetExhausted(
                f"the time budget of {self.limits.budget_s:g} s for the whole "
                "submission was used up"
            )
        what = str(payload.get("probe", "request"))
        clock = time.monotonic()
        try:
            self._ready()
            timeout_s = timeout_s or self.limits.request_timeout_s
            left = self.limits.budget_s - self.spent - (time.monotonic() - clock)
            self._send(payload)
            return self._receive(min(timeout_s, left), what, budget_cut=left < timeout_s)
        finally:
            self.spent += time.monotonic() - clock

    def load(self) -> Load:
        """Import the submission (once per worker start) and return what it defines.

        An import that hangs, crashes the worker or breaks the protocol is not retried: its
        description becomes the import error that every later test reports.
        """
        if self._import_failure is None and (self._process is None or self.load_reply is None):
            try:
                reply = protocol.parse("load", self._load())
            except WorkerUnavailable:
                raise
            except (WorkerTimeout, WorkerCrashed, ProtocolError) as exc:
                self._stop()
                self._import_failure = _import_failure(exc)
                reply = Load(frozenset(), self._import_failure, (), 0)
            self.load_reply = reply
        assert self.load_reply is not None
        return self.load_reply

    def close(self) -> None:
        """Kill the worker and everything it started, and remove its folder."""
        self._stop()

    def restart(self) -> None:
        """Kill the worker; the next request starts a fresh one, in a fresh folder, which
        imports the submission again: nothing the submission kept survives."""
        self._stop()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _load(self) -> dict:
        """The reply to the load request: the one `start` sent, or a new one."""
        if self._load_sent is None or self._process is None:
            return self.request({"probe": "load"}, self.limits.import_timeout_s)
        clock = time.monotonic()
        self._load_sent = None
        try:
            self._ready()
            # The import starts once the worker is confined: its start is not the student's.
            left = self.limits.import_timeout_s - (time.monotonic() - self._greeted_at)
            return self._receive(max(left, 0.0), "load", budget_cut=False)
        finally:
            self.spent += time.monotonic() - clock

    # ---- process management -------------------------------------------------------------

    def _send(self, payload: dict) -> None:
        self._seq += 1
        self._pipes.send(json.dumps({**payload, "seq": self._seq}).encode() + b"\n")

    def _ready(self) -> None:
        """A started, confined worker: start one if needed, and read its hello once."""
        if self._process is None:
            self._spawn()
        if not self._greeted:
            self._greet()

    def _spawn(self) -> None:
        """A new worker process in a new folder (its hello is read by `_greet`)."""
        self.starts += 1
        self.load_reply = None
        self._folder = Path(tempfile.mkdtemp(prefix="scratchgrad-worker-"))
        self._folder.chmod(0o711)  # the worker's user may enter, not list; it owns only work/
        code = self._folder / "_grader"
        shutil.copytree(SANDBOX_FILES, code, ignore=shutil.ignore_patterns("__pycache__"))
        work = self.submission.stage(self._folder / "work")
        config = {
            "submission": {
                "kind": self.submission.kind,
                "root": str(work),
                "entry": str(self.submission.entry_in(work)),
            },
            "limits": {**asdict(self.limits), "uid": self._uid},
            "writable": str(work),
            "site_packages": site_packages() if self.limits.site_packages else [],
        }
        (code / "config.json").write_text(json.dumps(config), encoding="utf-8")
        if self._uid is not None:
            chown_tree(work, self._uid)
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                "-B",
                "-u",
                "-X",
                "utf8",
                str(code / "serve.py"),
                str(code / "config.json"),
            ],
            cwd=work,
            env=scrubbed_environment(work),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **own_process_group(),
        )
        self._pipes = Pipes(self._process, self.output, self.limits.reply_mb * 1024 * 1024)
        if self._uid is not None and os.path.isdir("/proc"):
            self._memory = MemoryWatch(self._process, self._uid, self.limits.memory_mb)
        self._seq = 0
        self._greeted = False

    def _greet(self) -> None:
        """Read the new worker's hello; WorkerUnavailable if it cannot start or confine itself."""
        try:
            line = self._pipes.reply(START_TIMEOUT_S)
        except queue.Empty:
            line = None
        try:
            if line is None or line is EOF or not isinstance(line, bytes):
                raise ProtocolError("no hello from the worker")
            hello = protocol.parse("hello", protocol.decode(line, 0, "start"))
        except ProtocolError as exc:
            self._stop()
            raise WorkerUnavailable(
                f"the grader's worker could not start ({exc}); this is a "
                "problem of the grading machine, not of your code"
            ) from None
        self._greeted, self._greeted_at = True, time.monotonic()
        confined = hello.limits
        self.limits_in_force = {
            "request_timeout": True,
            "time_budget": True,
            "output_cap": True,
            "reply_cap": True,
            **confined,
            "process_group_killed": hasattr(os, "killpg"),
            "orphans_killed": self._uid is not None or confined.get("pid_namespace", False),
        }

    def _receive(self, timeout_s: float, what: str, *, budget_cut: bool) -> dict:
        """The reply to request `self._seq` within `timeout_s`, or stop the worker and say why."""
        try:
            line = self._pipes.reply(timeout_s)
        except queue.Empty:
            self._stop()
            if budget_cut:
                raise WorkerTimeout(
                    f"stopped when the time budget of {self.limits.budget_s:g} s "
                    "for the whole submission ran out"
                ) from None
            raise WorkerTimeout(f"no answer within {timeout_s:.3g} s") from None
        if line is EOF:
            raise WorkerCrashed(self._how_it_ended(what))
        try:
            if line is TOO_LONG or not isinstance(line, bytes):
                raise ProtocolError(
                    f"the worker's reply to {what} was longer than {self.limits.reply_mb} MB"
                )
            reply = protocol.decode(line, self._seq, what)
        except ProtocolError:
            self._stop()
            raise
        return reply

    def _how_it_ended(self, what: str) -> str:
        assert self._process is not None
        try:
            status: int | None = self._process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            status = None
        watch = self._memory
        self._stop()
        if watch is not None and watch.exceeded:
            return (
                f"your code's processes together used more than {self.limits.memory_mb} MB "
                f"of memory (the limit) and were stopped during {what}"
            )
        return f"{how_it_ended(status)} during {what}"

    def _stop(self) -> None:
        """Kill the worker and everything it started; remove its folder."""
        process, self._process = self._process, None
        self._greeted, self._load_sent = False, None
        watch, self._memory = self._memory, None
        if watch is not None:
            watch.close()
        if process is not None:
            kill(process, self._uid)
            self._pipes.close()
        if self._folder is not None:
            remove_tree(self._folder)
            self._folder = None


def _import_failure(exc: Exception) -> StudentError:
    """An import that never answered, described like the import errors the worker reports."""
    kind = {WorkerTimeout: "Timeout", WorkerCrashed: "Crash"}.get(type(exc), "ProtocolError")
    hint = (
        " (an infinite loop, or a long computation at import time?)"
        if isinstance(exc, WorkerTimeout)
        else ""
    )
    return StudentError(kind, f"importing your submission: {exc}{hint}", None, None, None, None)
