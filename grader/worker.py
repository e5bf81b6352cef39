"""The harness's side of the worker: start it confined, send requests, enforce time, clean up.

The worker is a separate Python process (`python -I -S`) in a fresh folder holding only a copy
of the submission. Requests and replies are JSON lines on two private pipes; its stdout/stderr
are drained into a capped log. A request that runs out of time kills the worker's whole
process group; the next request starts a new worker.
"""

from __future__ import annotations

import json
import os
import select
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
BASE_UID = 200_000  # a root harness runs each worker as a user of its own: 200000 + n


@dataclass(frozen=True)
class Limits:
    """Sandbox limits; every field can be set from the command line or a course config."""

    request_timeout_s: float = 5.0
    """Wall-clock time for one request (one test case) before the worker is killed."""
    import_timeout_s: float = 10.0
    """Wall-clock time to import the submission (top-level notebook demos run here)."""
    budget_s: float = 40.0
    """Wall-clock time for all requests of one submission; later tests are not run."""
    memory_mb: int = 1024
    """Address-space limit of the worker (RLIMIT_AS)."""
    cpu_s: int = 120
    """CPU seconds for the worker's whole life (RLIMIT_CPU)."""
    max_processes: int = 32
    """Processes the worker's user may have (RLIMIT_NPROC; not enforced for root)."""
    max_file_mb: int = 16
    """Largest file the worker may write (RLIMIT_FSIZE)."""
    max_open_files: int = 64
    """Open file descriptors (RLIMIT_NOFILE)."""
    output_kb: int = 64
    """How much of the submission's printed output is kept for the report."""
    forbidden_modules: tuple[str, ...] = ("torch", "numpy", "jax", "tensorflow")
    """Libraries the submission may not import (they would compute the gradients)."""
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


class ProtocolError(Exception):
    """The worker's reply was not the JSON object the harness asked for."""


@dataclass
class Output:
    """What the submission printed: the start of it, and how much in all."""

    limit: int
    text: bytearray = field(default_factory=bytearray)
    total: int = 0

    def drain(self, stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self.total += len(chunk)
            room = self.limit - len(self.text)
            if room > 0:
                self.text += chunk[:room]


class Worker:
    """One submission's worker, started on first use and again after a timeout or crash."""

    def __init__(self, submission: Submission, limits: Limits) -> None:
        self.submission = submission
        self.limits = limits
        self.deadline = time.monotonic() + limits.budget_s
        self.output = Output(limits.output_kb * 1024)
        self.limits_in_force: dict[str, bool] = {}
        self.load_reply: dict | None = None
        self.starts = 0
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._uid: int | None = None

    def request(self, payload: dict, timeout_s: float | None = None) -> dict:
        """Send one request and return the worker's parsed reply object."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise BudgetExhausted(f"the time budget of {self.limits.budget_s:g} s was used up")
        if self._process is None:
            self._start()
        wait = min(timeout_s or self.limits.request_timeout_s, remaining)
        self._send(payload)
        return self._receive(wait, what=payload.get("probe", "request"))

    def load(self) -> dict:
        """Import the submission (once per worker start) and return what it defines."""
        if self._process is None or self.load_reply is None:
            reply = self.request({"probe": "load"}, self.limits.import_timeout_s)
            for key in ("names", "cell_errors"):
                if not isinstance(reply.get(key), list):
                    raise ProtocolError(f"the load reply has no list {key!r}")
            self.load_reply = reply
        return self.load_reply

    def close(self) -> None:
        """Kill the worker, everything it started, and remove its folder."""
        self._kill()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- process management -------------------------------------------------------------

    def _start(self) -> None:
        self.starts += 1
        self.load_reply = None
        self._folder = Path(tempfile.mkdtemp(prefix="scratchgrad-worker-"))
        code = self._folder / "_grader"
        shutil.copytree(SANDBOX_FILES, code, ignore=shutil.ignore_patterns("__pycache__"))
        root = self.submission.stage(self._folder / "submission")
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        config = {
            "request_fd": request_r,
            "reply_fd": reply_w,
            "submission": {"kind": self.submission.kind, "root": str(root),
                           "entry": str(self.submission.entry_in(root))},
            "limits": {**asdict(self.limits), "uid": self._worker_uid()},
            "readable": [p for p in _stdlib_paths()],
            "writable": [str(self._folder)],
        }
        (code / "config.json").write_text(json.dumps(config), encoding="utf-8")
        if self._uid is not None:
            _chown_tree(self._folder, self._uid)
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-X", "utf8", str(code / "serve.py"),
             str(code / "config.json")],
            cwd=self._folder,
            env=_scrubbed_environment(self._folder),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(request_r, reply_w),
            start_new_session=True,
        )
        os.close(request_r)
        os.close(reply_w)
        self._requests = os.fdopen(request_w, "w", encoding="utf-8")
        self._replies = os.fdopen(reply_r, "rb", buffering=0)
        self._pending = b""
        threading.Thread(target=self.output.drain, args=(self._process.stdout,),
                         daemon=True).start()
        hello = self._receive(self.limits.import_timeout_s, what="start")
        if not isinstance(hello.get("limits"), dict):
            raise ProtocolError("the worker did not report its limits")
        self.limits_in_force = {str(k): v is True for k, v in hello["limits"].items()}
        self.limits_in_force["process_group_killed"] = True
        self.limits_in_force["orphans_killed"] = self._uid is not None

    def _worker_uid(self) -> int | None:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        if self._uid is None:
            self._uid = BASE_UID + os.getpid() % 100_000
        return self._uid

    def _send(self, payload: dict) -> None:
        try:
            self._requests.write(json.dumps(payload) + "\n")
            self._requests.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the reply side reports how the worker ended

    def _receive(self, timeout_s: float, what: str) -> dict:
        """Read one reply line within `timeout_s`, or kill the worker and say why."""
        end = time.monotonic() + timeout_s
        while b"\n" not in self._pending:
            left = end - time.monotonic()
            if left <= 0:
                self._kill()
                raise WorkerTimeout(f"{what} did not finish within {timeout_s:.3g} s")
            ready, _, _ = select.select([self._replies], [], [], left)
            if not ready:
                continue
            chunk = self._replies.read(1 << 20)
            if not chunk:
                raise WorkerCrashed(self._how_it_ended(what))
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        try:
            reply = json.loads(line.decode("utf-8"), parse_constant=float)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError(f"the worker's reply to {what} was not JSON ({exc})") from None
        if not isinstance(reply, dict):
            raise ProtocolError(f"the worker's reply to {what} was not a JSON object")
        return reply

    def _how_it_ended(self, what: str) -> str:
        assert self._process is not None
        try:
            status = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            status = None
        self._kill()
        if status is None:
            return f"the worker closed its reply pipe during {what}"
        if status < 0:
            name = signal.Signals(-status).name if -status in signal.Signals._value2member_map_ \
                else f"signal {-status}"
            hint = {"SIGSEGV": " (a crash in native code, e.g. ctypes)",
                    "SIGKILL": " (killed: out of memory or CPU time?)",
                    "SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)"}
            return f"the worker process was killed by {name}{hint.get(name, '')} during {what}"
        return f"the submission ended the worker process (exit status {status}) during {what}"

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for closer in (self._requests, self._replies):
            try:
                closer.close()
            except OSError:
                pass
        _kill_group(process.pid)
        if self._uid is not None:
            _kill_user(self._uid)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if process.stdout is not None:
            process.stdout.close()


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        pass


def _kill_user(uid: int) -> None:
    """Kill every process of the worker's own user: daemons that left its session too."""
    for _attempt in range(3):
        found = False
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _owner(entry) == uid:
                found = True
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not found:
            return
        time.sleep(0.01)


def _owner(proc_entry: Path) -> int | None:
    try:
        for line in (proc_entry / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _chown_tree(folder: Path, uid: int) -> None:
    os.chown(folder, uid, uid)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def _stdlib_paths() -> list[str]:
    import sysconfig

    paths = sysconfig.get_paths()
    return sorted({paths["stdlib"], paths["platstdlib"], os.path.dirname(os.__file__)})


def _scrubbed_environment(folder: Path) -> dict[str, str]:
    """No tokens, no HOME secrets: only what Python needs to start."""
    env = {"PATH": os.defpath, "HOME": str(folder), "TMPDIR": str(folder),
           "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    if sys.platform == "win32":
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", "")
    return env
