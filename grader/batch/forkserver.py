"""The grading side of the batch harness: a process that imports the grader once, then forks a
fresh child for each entry.

The server runs as `python -I -c BOOT KIT` in an empty folder (`harness.BOOT`): no student
file can shadow a module, and the kit is on sys.path explicitly. It imports the pipeline,
pytest and everything the suites import, then reads one request per line on stdin. For each it
forks a child in a session of its own, which calls `grader.pipeline.grade` exactly as
`python -m grader PATH --json FILE` does (its own sandboxed worker, its own limits) and exits;
the server stays single-threaded and never grades, so every child starts from the same state
as a fresh `python -m grader`. Lines on stdout: `{"ready"}` once, then `{"started": pid}` and
`{"exit": code}` for each request; `stop` on stdin kills the running child's process group.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from grader.pipeline import HIDDEN_SUITES, SECTION_IDS, SUITES, Options, grade

OUTCOME, REPORT, LOG = "outcome.json", "report.json", "grading.log"
"""Files a child leaves in its entry's folder: its status, the native report, its output."""


@dataclass(frozen=True)
class Settings:
    """How each submission is graded; shipped to the servers (and to Dask workers)."""

    sections: tuple[str, ...] = SECTION_IDS
    """Section ids to grade."""
    limits: tuple[str, ...] = ()
    """`--limit NAME=VALUE` pairs, read by `grader.cli.parse_limits` where the grading runs."""
    run_hidden: bool = False
    """Run the hidden suites too (`--hidden`)."""
    secret_seed: int | None = None
    """The course's seed for hidden inputs, read once where the batch was started."""
    expectations: tuple[str, ...] = ()
    """Folders of expected values read first (`--expectations DIR`), as absolute paths."""
    no_cache: bool = False
    """Compute every expectation with torch (python -m grader --no-cache)."""
    timeout_s: float = 900.0
    """Wall-clock limit of one grading, after which its process group is killed."""

    def options(self) -> Options:
        """The pipeline's options, built as `python -m grader` builds them from its flags."""
        from grader.cli import parse_limits
        from grader.oracle import default_cache_dir

        return Options(
            sections=self.sections,
            limits=parse_limits(list(self.limits)),
            cache_dir=None if self.no_cache else default_cache_dir(),
            run_hidden=self.run_hidden,
            secret_seed=self.secret_seed,
            expectations=tuple(Path(path) for path in self.expectations),
            torch_only=self.no_cache,
        )

    @property
    def needs_torch(self) -> bool:
        """Whether gradings will compute with torch: the fork server then imports it once."""
        return self.options().needs_torch

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Settings:
        tuples = ("sections", "limits", "expectations")
        return cls(**{**data, **{key: tuple(data[key]) for key in tuples}})


def serve(preload_torch: bool) -> None:
    """The server's loop: preload, say ready, then fork one child per request line."""
    preload(preload_torch)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # SIGCHLD wakes the select below: no polling
    signal.signal(signal.SIGCHLD, lambda *_: None)
    lines = Lines(sys.stdin.buffer)
    say({"ready": True, "pid": os.getpid()})
    while (line := lines.next(None)) is not None:
        if line == "stop":
            continue  # the child it meant has ended already
        request = json.loads(line)
        if threading.active_count() != 1 or len(native_threads()) > 1:
            raise RuntimeError("the batch harness must be single-threaded to fork")
        pid = os.fork()
        if pid == 0:
            child(request, (wake_r, wake_w))
        say({"started": pid})
        status = wait(pid, lines, wake_r)
        say({"exit": os.waitstatus_to_exitcode(status)})
        if lines.closed:
            return


def preload(torch: bool) -> None:
    """Import once what every grading imports: pytest and its plugins, the suites' imports
    (hypothesis, the grader's checks) and, when hidden tests or --no-cache will need it, torch;
    build the one-pass graphs that every grading sends."""
    import _pytest.config  # pytest's own plugins: every pytest.main imports them

    for plugin in (*_pytest.config.default_plugins, *_pytest.config.builtin_plugins):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{plugin}")
    importlib.import_module("grader.cli")
    for suite in [*SUITES.glob("test_*.py"), *HIDDEN_SUITES.glob("hidden_test_*.py")]:
        for node in ast.parse(suite.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                with contextlib.suppress(ImportError):  # the grading then says what is missing
                    importlib.import_module(name)
    from grader.probes import build_one_pass_graphs

    build_one_pass_graphs()
    if torch and importlib.util.find_spec("torch") is not None:  # else each grading says so
        importlib.import_module("torch")
    gc.freeze()  # children never collect (nor copy) what the server imported


def child(request: dict, wake: tuple[int, int]) -> None:
    """Grade one entry in this forked process, leave its files, and exit (never returns)."""
    code = 1
    try:
        os.setsid()  # a process group of its own: a timeout kills it and all it started
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wake:
            os.close(fd)
        folder = Path(request["folder"])
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(folder / LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((null, 0), (log, 1), (log, 2)):
            os.dup2(fd, target)
        os.chdir(folder / "run")
        # The worker's folders go in the entry's folder, which the batch removes whatever happens.
        os.environ["TMPDIR"] = tempfile.tempdir = str(folder)
        grade_to(Path(request["path"]), Settings.from_json(request["settings"]), folder)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def grade_to(path: Path, settings: Settings, folder: Path) -> None:
    """What `python -m grader PATH --json FILE` writes, and the status the batch records."""
    from grader.report import write_json, write_text_atomic
    from grader.submission import UsageError

    try:
        report = grade(path, settings.options())
    except UsageError as exc:
        outcome = {"status": f"error: {exc}", "report": None}
    else:
        write_json(report, folder / REPORT)
        failed = any(e["kind"] == "grader" for e in report.errors)
        outcome = {
            "status": "error: the grader itself failed on some tests (see the report's errors)"
            if failed
            else "graded",
            "report": REPORT,
        }
    write_text_atomic(folder / OUTCOME, json.dumps(outcome) + "\n")


def wait(pid: int, lines: Lines, wake_r: int) -> int:
    """The child's wait status; `stop` or the end of stdin kills its process group first."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        readable, _, _ = select.select([lines.fd, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
        if lines.fd in readable and (lines.closed or lines.next(0) is not None):
            kill_group(pid)
            return os.waitpid(pid, 0)[1]


def kill_group(pid: int) -> None:
    """SIGKILL a child's process group (the child and everything it started that stayed in it:
    its sandboxed workers, in sessions of their own, die with it by PR_SET_PDEATHSIG)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def native_threads() -> list[str]:
    """This process's threads as the OS sees them (Linux), else one."""
    try:
        return os.listdir("/proc/self/task")
    except OSError:
        return ["main"]


def say(message: dict) -> None:
    os.write(sys.stdout.fileno(), json.dumps(message).encode() + b"\n")


class Lines:
    """Lines from a pipe, read with a timeout; holds the stream so its descriptor stays open."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.fd = stream, stream.fileno()
        self.buffer, self.closed = b"", False

    def next(self, timeout_s: float | None) -> str | None:
        """The next line, or None when none came within `timeout_s` or the stream ended."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(deadline - time.monotonic(), 0)
            if self.closed or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            self.closed = not chunk
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()
