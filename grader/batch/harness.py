"""The batch's side of the harness: one long-lived grading server per job slot.

`Harness.grade` unpacks an entry into a folder of its own, asks the server (`forkserver`) to
grade it in a forked child, kills the child's process group when it runs past the timeout, and
reads back the report the child wrote. A server that dies is started again for the next entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import grader
from grader.batch.entries import Entry, Refused, error_text, unpack
from grader.batch.forkserver import LOG, OUTCOME, Lines, Settings
from grader.batch.gradebook import read_json
from grader.worker_process import remove_tree

KIT = str(Path(grader.__file__).resolve().parent.parent)
BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grader.batch.forkserver import serve; serve(sys.argv[2] == 'torch')"
)
"""`python -I -c BOOT KIT torch|-`: the server, importing the grader from the kit's folder."""
START_TIMEOUT_S = 120.0
"""Time for a server to import the grader (and torch, when it preloads it)."""
REPLY_TIMEOUT_S = 10.0
"""Time for a server to fork a child, or to kill and reap it once asked."""


class HarnessFailed(Exception):
    """The grading server stopped or stopped answering; it is started again on next use."""


class Harness:
    """One grading server and the child it runs; one thread grades with it at a time, and any
    thread may `kill` it."""

    def __init__(self, root: Path, preload_torch: bool = False) -> None:
        self.root = root
        """The batch's temporary folder: the server's empty working folder, entry folders."""
        self.preload_torch = preload_torch
        self._server: subprocess.Popen | None = None
        self._lines: Lines | None = None
        self._child: int | None = None
        self._killed: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def grade(self, entry: Entry, settings: Settings) -> dict:
        """Grade one entry: {status, report, duration_s}; its folder is gone on return."""
        clock = time.monotonic()
        folder = Path(tempfile.mkdtemp(prefix="entry-", dir=self.root))
        try:
            outcome = self._grade(entry, settings, folder)
        finally:
            with contextlib.suppress(OSError):
                remove_tree(folder)
        return {**outcome, "duration_s": round(time.monotonic() - clock, 3)}

    def _grade(self, entry: Entry, settings: Settings, folder: Path) -> dict:
        (folder / "entry").mkdir()
        (folder / "run").mkdir()
        try:
            path = unpack(entry, folder / "entry")
        except Refused as exc:
            return {"status": f"error: refused: {exc}", "report": None}
        except Exception as exc:  # a full disk, a name this filesystem refuses, ...
            return {
                "status": f"error: could not unpack the entry ({error_text(exc)})",
                "report": None,
            }
        request = {"path": str(path), "folder": str(folder), "settings": settings.to_json()}
        code, timed_out = self._run(request, settings.timeout_s)
        if timed_out:
            return {
                "status": f"error: grading took over {settings.timeout_s:g} s and was stopped",
                "report": None,
            }
        outcome = read_json(folder / OUTCOME)
        if outcome is None:
            return {"status": f"error: {_how_it_ended(code, folder / LOG)}", "report": None}
        report = read_json(folder / outcome["report"]) if outcome["report"] else None
        if report is not None:
            report["submission"]["path"] = entry.id
        # A message about the path names the entry, not this temporary folder.
        return {
            "status": outcome["status"].replace(f"{folder / 'entry'}{os.sep}", ""),
            "report": report,
        }

    def _run(self, request: dict, timeout_s: float) -> tuple[int, bool]:
        """Have the server grade in a child: (its exit code, whether it was stopped at timeout)."""
        lines, requests = self._started()
        try:
            requests.write(json.dumps(request).encode() + b"\n")
            requests.flush()
            started = _reply(lines, REPLY_TIMEOUT_S, "started")
            self._child = started["started"]
            finished = lines.next(timeout_s)
            timed_out = finished is None and not lines.closed
            if timed_out:
                requests.write(b"stop\n")
                requests.flush()
                finished = lines.next(REPLY_TIMEOUT_S)
            if finished is None:
                raise HarnessFailed("the grading server stopped answering")
            return json.loads(finished)["exit"], timed_out
        except (OSError, ValueError, KeyError, TypeError, HarnessFailed) as exc:
            self.close()
            raise HarnessFailed(f"the grading server failed: {error_text(exc)}") from None
        finally:
            self._child = None

    def _started(self) -> tuple[Lines, IO[bytes]]:
        """The running server's replies and requests, started (imports done) if need be."""
        server = self._server
        if server is not None and server.poll() is None and self._lines is not None:
            return self._lines, server.stdin  # type: ignore[return-value]
        self.close()
        folder = Path(tempfile.mkdtemp(prefix="server-", dir=self.root))
        (folder / "run").mkdir()
        with open(folder / "server.log", "wb") as log:
            self._server = subprocess.Popen(
                [sys.executable, "-I", "-c", BOOT, KIT, "torch" if self.preload_torch else "-"],
                cwd=folder / "run",  # empty: nothing here can shadow a module
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,  # Ctrl-C reaches the batch alone, which stops it
            )
        self._lines = Lines(self._server.stdout)  # type: ignore[arg-type]
        try:
            _reply(self._lines, START_TIMEOUT_S, "ready")
        except HarnessFailed as exc:
            tail = _last_line(folder / "server.log")
            self.close()
            raise HarnessFailed(f"the grading server did not start: {tail or exc}") from None
        return self._lines, self._server.stdin  # type: ignore[return-value]

    def kill(self) -> None:
        """Kill the running grading (its whole process group) and the server, at once."""
        with self._lock:
            child, server, self._server = self._child, self._server, None
            if child is not None:
                with contextlib.suppress(OSError):
                    os.killpg(child, signal.SIGKILL)
            if server is not None:
                server.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    server.wait(REPLY_TIMEOUT_S)
                self._killed.append(server)

    def close(self) -> None:
        """Kill, then close the pipes of every server this harness started. Only the thread
        that grades with it calls this (or any thread once that one is done): another thread
        may still be reading a pipe that `kill` left open."""
        self.kill()
        with self._lock:
            killed, self._killed = self._killed, []
        for server in killed:
            for stream in (server.stdin, server.stdout):
                with contextlib.suppress(OSError):
                    stream.close()  # type: ignore[union-attr]


def failure(status: str) -> dict:
    """The outcome of an entry that left no report: `status` says why."""
    return {"status": f"error: {status}", "report": None, "duration_s": 0.0}


def _reply(lines: Lines, timeout_s: float, key: str) -> dict:
    line = lines.next(timeout_s)
    try:
        message = json.loads(line) if line is not None else None
    except ValueError:
        message = None
    if not isinstance(message, dict) or key not in message:
        raise HarnessFailed(f"no {key!r} from the grading server within {timeout_s:g} s")
    return message


def _how_it_ended(code: int, log: Path) -> str:
    """Why a child left no outcome: its exit, and the last line it printed (a traceback's)."""
    ended = f"exit status {code}"
    if code < 0:
        with contextlib.suppress(ValueError):
            ended = f"killed by {signal.Signals(-code).name}"
    tail = _last_line(log)
    return f"the grading process ended without a report ({ended}){': ' + tail if tail else ''}"


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


class LocalPool:
    """One harness per job slot, each fed by a thread; results come in completion order.
    Leaving the `with` kills every grading still running, workers included."""

    def __init__(self, jobs: int, settings: Settings, root: Path) -> None:
        preload_torch = settings.needs_torch
        self.harnesses = [Harness(root, preload_torch) for _ in range(jobs)]
        self.settings = settings
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def results(self, entries: list[Entry]) -> Iterator[tuple[Entry, dict]]:
        todo: queue.Queue[Entry] = queue.Queue()
        for entry in entries:
            todo.put(entry)
        done: queue.Queue[tuple[Entry, dict]] = queue.Queue()
        for harness in self.harnesses[: len(entries)]:
            thread = threading.Thread(target=self._slot, args=(harness, todo, done), daemon=True)
            thread.start()
            self.threads.append(thread)
        for _ in entries:
            yield done.get()

    def _slot(self, harness: Harness, todo: queue.Queue, done: queue.Queue) -> None:
        while not self.stopping.is_set():
            try:
                entry = todo.get_nowait()
            except queue.Empty:
                return
            try:
                outcome = harness.grade(entry, self.settings)
            except Exception as exc:  # HarnessFailed, or a bug: this entry's row says which
                outcome = failure(error_text(exc))
            done.put((entry, outcome))

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        for harness in self.harnesses:
            harness.kill()  # at once: gradings in flight are not waited for
        for thread in self.threads:
            thread.join(timeout=5)
        for harness in self.harnesses:
            harness.close()
