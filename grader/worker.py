"""The harness's side of the worker: start it confined, send requests, enforce time, clean up.

The worker is a separate Python process (`python -I -S`) in a fresh folder holding only a copy
of the submission. Requests go to its stdin and replies come from its stdout, one JSON line
each; the submission's own prints go to its stderr, drained into a capped log. Threads do all
the reading and writing, so a worker that stops reading or floods its pipes never blocks the
harness, on any platform. A request that runs out of time kills the worker's process group
(and, when the harness is root, every process of the worker's own user); the next request
starts a new worker. docs/grading.md describes every limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.submission import Submission

SANDBOX_FILES = Path(__file__).parent / "sandbox"
BASE_UID = 0x7000_0000
"""A root harness runs its workers as user BASE_UID + its own pid: unique per grading process,
in a range that no distribution allocates (systemd leaves 0x70000000-0x7FFDFFFF unused)."""
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
    """Address-space limit of the worker (RLIMIT_AS)."""
    cpu_s: int = 120
    """CPU seconds for each worker process's whole life (RLIMIT_CPU)."""
    max_processes: int = 32
    """Processes and threads the worker's user may have (RLIMIT_NPROC; needs a root harness)."""
    max_file_mb: int = 16
    """Largest file the worker may write (RLIMIT_FSIZE)."""
    max_open_files: int = 64
    """Open file descriptors (RLIMIT_NOFILE)."""
    output_kb: int = 64
    """How much of the submission's printed output is kept for the report."""
    reply_mb: int = 16
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


class ProtocolError(Exception):
    """The worker's reply was not the JSON object the harness asked for; the worker was killed."""


@dataclass
class Output:
    """What the submission printed: the start of it, and how much in all."""

    limit: int
    text: bytearray = field(default_factory=bytearray)
    total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def drain(self, stream) -> None:
        """Read `stream` to its end, keeping the first `limit` bytes (runs in a thread)."""
        try:
            for chunk in iter(lambda: stream.read1(65536), b""):
                with self._lock:
                    self.total += len(chunk)
                    self.text += chunk[: max(self.limit - len(self.text), 0)]
        except (OSError, ValueError):
            pass
        finally:
            _close(stream)


EOF, TOO_LONG = object(), object()


class Worker:
    """One submission's worker, started on first use and again after a timeout or crash."""

    def __init__(self, submission: Submission, limits: Limits) -> None:
        self.submission = submission
        self.limits = limits
        self.spent = 0.0
        """Wall-clock seconds of requests so far, worker starts included."""
        self.output = Output(limits.output_kb * 1024)
        self.limits_in_force: dict[str, bool] = {}
        self.load_reply: dict | None = None
        self.starts = 0
        self._uid = _worker_uid()
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._seq = 0
        self._import_failure: dict | None = None

    def request(self, payload: dict, timeout_s: float | None = None) -> dict:
        """Send one request and return the worker's parsed reply object."""
        if self.spent >= self.limits.budget_s:
            raise BudgetExhausted(f"the time budget of {self.limits.budget_s:g} s for the whole "
                                  "submission was used up")
        what = str(payload.get("probe", "request"))
        clock = time.monotonic()
        try:
            if self._process is None:
                self._start()
            timeout_s = timeout_s or self.limits.request_timeout_s
            left = self.limits.budget_s - self.spent - (time.monotonic() - clock)
            self._seq += 1
            self._requests.put(json.dumps({**payload, "seq": self._seq}).encode() + b"\n")
            return self._receive(min(timeout_s, left), what, budget_cut=left < timeout_s)
        finally:
            self.spent += time.monotonic() - clock

    def load(self) -> dict:
        """Import the submission (once per worker start) and return what it defines.

        An import that hangs, crashes the worker or breaks the protocol is not retried: its
        description becomes the import error that every later test reports.
        """
        if self._import_failure is None and (self._process is None or self.load_reply is None):
            try:
                reply = self.request({"probe": "load"}, self.limits.import_timeout_s)
                for key in ("names", "cell_errors"):
                    if not isinstance(reply.get(key), list):
                        raise ProtocolError(f"the load reply has no list {key!r}")
            except WorkerUnavailable:
                raise
            except (WorkerTimeout, WorkerCrashed, ProtocolError) as exc:
                self._stop()
                self._import_failure = _import_failure(exc)
                reply = {"names": [], "import_error": self._import_failure, "cell_errors": []}
            self.load_reply = reply
        return self.load_reply or {}

    def close(self) -> None:
        """Kill the worker and everything it started, and remove its folder."""
        self._stop()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- process management -------------------------------------------------------------

    def _start(self) -> None:
        """A new worker in a new folder; WorkerUnavailable if it cannot start or confine itself."""
        self.starts += 1
        self.load_reply = None
        self._folder = Path(tempfile.mkdtemp(prefix="scratchgrad-worker-"))
        self._folder.chmod(0o711)  # the worker's user may enter, not list; it owns only work/
        code = self._folder / "_grader"
        shutil.copytree(SANDBOX_FILES, code, ignore=shutil.ignore_patterns("__pycache__"))
        work = self.submission.stage(self._folder / "work")
        config = {
            "submission": {"kind": self.submission.kind, "root": str(work),
                           "entry": str(self.submission.entry_in(work))},
            "limits": {**asdict(self.limits), "uid": self._uid},
            "writable": str(work),
            "site_packages": _site_packages() if self.limits.site_packages else [],
        }
        (code / "config.json").write_text(json.dumps(config), encoding="utf-8")
        if self._uid is not None:
            _chown_tree(work, self._uid)
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", "-u", "-X", "utf8", str(code / "serve.py"),
             str(code / "config.json")],
            cwd=work, env=_scrubbed_environment(work), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **_own_process_group())
        self._requests: queue.Queue = queue.Queue()
        self._replies: queue.Queue = queue.Queue()
        self._tickets = threading.Semaphore(0)
        self._threads = [
            threading.Thread(target=_write_requests, args=(self._process.stdin, self._requests),
                             daemon=True),
            threading.Thread(target=_read_replies, daemon=True,
                             args=(self._process.stdout, self._replies, self._tickets,
                                   self.limits.reply_mb * 1024 * 1024)),
            threading.Thread(target=self.output.drain, args=(self._process.stderr,),
                             daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._seq = 0
        try:
            hello = self._receive(START_TIMEOUT_S, "start", budget_cut=False)
            if not isinstance(hello.get("limits"), dict):
                raise ProtocolError("the worker did not report its limits")
        except (WorkerTimeout, WorkerCrashed, ProtocolError) as exc:
            self._stop()
            raise WorkerUnavailable(f"the grader's worker could not start ({exc}); this is a "
                                "problem of the grading machine, not of your code") from None
        confined = {str(k): v is True for k, v in hello["limits"].items()}
        self.limits_in_force = {
            "request_timeout": True, "time_budget": True, "output_cap": True, "reply_cap": True,
            **confined,
            "process_group_killed": hasattr(os, "killpg"),
            "orphans_killed": self._uid is not None or confined.get("pid_namespace", False),
        }

    def _receive(self, timeout_s: float, what: str, *, budget_cut: bool) -> dict:
        """The reply to request `self._seq` within `timeout_s`, or stop the worker and say why."""
        self._tickets.release()
        try:
            line = self._replies.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            self._stop()
            if budget_cut:
                raise WorkerTimeout(f"{what} was stopped when the time budget of "
                                    f"{self.limits.budget_s:g} s for the whole submission ran "
                                    "out") from None
            raise WorkerTimeout(f"{what} did not finish within {timeout_s:.3g} s") from None
        if line is EOF:
            raise WorkerCrashed(self._how_it_ended(what))
        try:
            if line is TOO_LONG:
                raise ProtocolError(f"the worker's reply to {what} was longer than "
                                    f"{self.limits.reply_mb} MB")
            reply = _parse(line, what)
            if reply.get("seq") != self._seq:
                raise ProtocolError(f"the worker's reply to {what} was not the reply to it")
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
        self._stop()
        if status is None:
            return f"the worker closed its reply pipe during {what}"
        if status < 0:
            name = _signal_name(-status)
            hint = {"SIGSEGV": " (a crash in native code, e.g. ctypes)",
                    "SIGKILL": " (killed: out of memory or CPU time?)",
                    "SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)"}
            return f"the worker process was killed by {name}{hint.get(name, '')} during {what}"
        return f"the submission ended the worker process (exit status {status}) during {what}"

    def _stop(self) -> None:
        """Kill the worker and everything it started; remove its folder."""
        process, self._process = self._process, None
        if process is not None:
            _kill_group(process)
            if self._uid is not None:
                _kill_user(self._uid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            self._requests.put(None)
            self._tickets.release()
            for thread in self._threads:
                thread.join(timeout=0.5)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _parse(line: bytes, what: str) -> dict:
    try:
        reply = json.loads(line.decode("utf-8"), parse_constant=float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"the worker's reply to {what} was not JSON "
                            f"({type(exc).__name__})") from None
    if not isinstance(reply, dict):
        raise ProtocolError(f"the worker's reply to {what} was not a JSON object")
    return reply


def _import_failure(exc: Exception) -> dict:
    """An import that never answered, described like the import errors the worker reports."""
    kind = {WorkerTimeout: "Timeout", WorkerCrashed: "Crash"}.get(type(exc), "ProtocolError")
    hint = " (an infinite loop, or a long computation at import time?)" \
        if isinstance(exc, WorkerTimeout) else ""
    return {"type": kind, "message": f"importing your submission: {exc}{hint}", "file": None,
            "line": None, "code": None, "task": None}


# ---- threads: every pipe is read and written off the main thread ------------------------


def _write_requests(stream, requests: queue.Queue) -> None:
    """Write each queued request line; None, or a worker that went away, ends the thread."""
    try:
        for data in iter(requests.get, None):
            stream.write(data)
            stream.flush()
    except (OSError, ValueError):
        pass
    finally:
        _close(stream)


def _read_replies(stream, replies: queue.Queue, tickets: threading.Semaphore, cap: int) -> None:
    """Read one reply line per ticket (so nothing piles up), then EOF or TOO_LONG."""
    try:
        while True:
            tickets.acquire()
            try:
                line = stream.readline(cap + 1)
            except (OSError, ValueError):
                line = b""
            if not line.endswith(b"\n"):
                replies.put(TOO_LONG if len(line) > cap else EOF)
                return
            replies.put(line)
    finally:
        _close(stream)


def _close(stream) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.close()


# ---- platform helpers ---------------------------------------------------------------------


def _own_process_group() -> dict:
    """Popen arguments that put the worker in a process group of its own."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker's process group; on Windows, the worker alone (docs/grading.md).

    Inside a PID namespace the worker is a child of the process started here, and may have
    left the group (setsid); it is killed by pid, and the kernel then kills its namespace.
    """
    for child in _children(process.pid):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    process.kill()


def _children(pid: int) -> list[int]:
    """The children of `pid` where /proc lists them (Linux), else []."""
    try:
        return [int(child) for child in
                Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_user(uid: int) -> None:
    """Kill every process of the worker's own user, daemons that left its session included.

    A helper drops to that user and calls kill(-1, SIGKILL), which signals all of the user's
    processes at once (the kernel holds off fork meanwhile), in every namespace.
    """
    code = ("import os, signal, sys; uid = int(sys.argv[1]); os.setgroups([]); os.setgid(uid);"
            " os.setuid(uid); os.kill(-1, signal.SIGKILL)")
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-I", "-S", "-c", code, str(uid)], env={}, timeout=10,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


def _worker_uid() -> int | None:
    """The worker's own user when the harness is root (POSIX), else None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    return BASE_UID + os.getpid()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _chown_tree(folder: Path, uid: int) -> None:
    os.chown(folder, uid, uid)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def _site_packages() -> list[str]:
    import sysconfig

    paths = sysconfig.get_paths()
    return sorted({paths["purelib"], paths["platlib"]})


def _scrubbed_environment(work: Path) -> dict[str, str]:
    """No tokens, no HOME secrets: only what Python needs to start."""
    env = {"PATH": os.defpath, "HOME": str(work), "TMPDIR": str(work), "LANG": "C.UTF-8"}
    if sys.platform == "win32":
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", "")
        env["TEMP"] = env["TMP"] = str(work)
    return env
