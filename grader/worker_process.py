"""Start, feed, read and kill the worker process, on every platform.

Threads do all the reading and writing, so a worker that stops reading, floods its pipes or
sends endless lines never blocks the grader nor fills its memory. The helpers degrade to what
each OS offers (docs/grading.md).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

BASE_UID = 0x7000_0000
"""A root grader runs its workers as user BASE_UID + its own pid: unique per grading process,
in a range that no distribution allocates (systemd leaves 0x70000000-0x7FFDFFFF unused)."""
EOF, TOO_LONG = object(), object()
"""What `Pipes.reply` gives instead of a line: the pipe ended, or the line was too long."""


@dataclass
class Output:
    """What the submission printed: the start of it, and how much in all."""

    limit: int
    text: bytearray = field(default_factory=bytearray)
    total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def drain(self, stream) -> None:
        """Read `stream` to its end, keeping the first `limit` bytes (runs in a thread)."""
        with contextlib.suppress(OSError, ValueError):
            for chunk in iter(lambda: stream.read1(65536), b""):
                with self._lock:
                    self.total += len(chunk)
                    self.text += chunk[: max(self.limit - len(self.text), 0)]
        _close(stream)


class Pipes:
    """A worker's stdin (requests), stdout (replies) and stderr (its prints), each served by a
    thread of its own. One reply line is read per request, so nothing piles up."""

    def __init__(self, process: subprocess.Popen, output: Output, reply_cap: int) -> None:
        self._requests: queue.Queue = queue.Queue()
        self._replies: queue.Queue = queue.Queue()
        self._tickets = threading.Semaphore(0)
        self._threads = [
            threading.Thread(target=_write, args=(process.stdin, self._requests), daemon=True),
            threading.Thread(
                target=_read,
                daemon=True,
                args=(process.stdout, self._replies, self._tickets, reply_cap),
            ),
            threading.Thread(target=output.drain, args=(process.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def send(self, line: bytes) -> None:
        self._requests.put(line)

    def reply(self, timeout_s: float) -> bytes | object:
        """The next reply line, EOF or TOO_LONG; queue.Empty when none came in time."""
        self._tickets.release()
        return self._replies.get(timeout=max(timeout_s, 0.0))

    def close(self) -> None:
        """End the threads once the process is gone (the output is complete by then)."""
        self._requests.put(None)
        self._tickets.release()
        for thread in self._threads:
            thread.join(timeout=0.5)


def _write(stream, requests: queue.Queue) -> None:
    with contextlib.suppress(OSError, ValueError):
        for line in iter(requests.get, None):
            stream.write(line)
            stream.flush()
    _close(stream)


def _read(stream, replies: queue.Queue, tickets: threading.Semaphore, cap: int) -> None:
    while True:
        tickets.acquire()
        try:
            line = stream.readline(cap + 1)
        except (OSError, ValueError):
            line = b""
        if not line.endswith(b"\n"):
            replies.put(TOO_LONG if len(line) > cap else EOF)
            _close(stream)
            return
        replies.put(line)


def _close(stream) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.close()


def own_process_group() -> dict:
    """Popen arguments that put the worker in a process group of its own."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def kill(process: subprocess.Popen, uid: int | None) -> None:
    """SIGKILL the worker, its process group and, for a root grader, every process of its
    user; then reap it. On Windows, the worker alone."""
    for child in _children(process.pid):  # process 1 of its PID namespace, even after setsid
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    process.kill()
    if uid is not None:
        _kill_user(uid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


class MemoryWatch:
    """For a root grader, whose worker's processes all run as the worker's own user: every
    0.2 s, add up their resident memory, and kill them all past `limit_mb`. RLIMIT_AS bounds
    each process; this bounds them together (a submission may start `max_processes`)."""

    PERIOD_S = 0.2

    def __init__(self, process: subprocess.Popen, uid: int, limit_mb: int) -> None:
        self.exceeded = False
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, args=(process, uid, limit_mb * 1024), daemon=True
        )
        self._thread.start()

    def _watch(self, process: subprocess.Popen, uid: int, limit_kb: int) -> None:
        while not self._done.wait(self.PERIOD_S) and process.poll() is None:
            if resident_kb(uid) > limit_kb:
                self.exceeded = True
                kill(process, uid)
                return

    def close(self) -> None:
        self._done.set()
        self._thread.join()


def resident_kb(uid: int) -> int:
    """The resident memory (VmRSS) of every process that runs as `uid` (Linux /proc): the owner
    of /proc/PID is the process's user, so only its own processes' status files are read."""
    total = 0
    with os.scandir("/proc") as entries:
        pids = [entry.name for entry in entries if entry.name.isdigit()]
    for pid in pids:
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                rss = (line for line in f if line.startswith("VmRSS:"))
                total += next((int(line.split()[1]) for line in rss), 0)
        except OSError:  # it ended meanwhile
            continue
    return total


def _children(pid: int) -> list[int]:
    """The children of `pid` where /proc lists them (Linux), else []."""
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except (OSError, ValueError):
        return []


def _kill_user(uid: int) -> None:
    """Kill every process of the worker's own user, daemons that left its session included.

    A helper drops to that user and calls kill(-1, SIGKILL), which signals all of the user's
    processes at once (the kernel holds off fork meanwhile), in every namespace.
    """
    code = (
        "import os, signal, sys; uid = int(sys.argv[1]); os.setgroups([]); os.setgid(uid);"
        " os.setuid(uid); os.kill(-1, signal.SIGKILL)"
    )
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", code, str(uid)],
            env={},
            timeout=10,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


def how_it_ended(status: int | None) -> str:
    """The worker's end in words, from its exit status (None: it was still running)."""
    if status is None:
        return "the worker closed its reply pipe"
    if status >= 0:
        return f"the submission ended the worker process (exit status {status})"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    hint = {
        "SIGSEGV": " (a crash in native code, e.g. ctypes)",
        "SIGKILL": " (killed: out of memory or CPU time?)",
        "SIGXCPU": " (CPU time limit)",
        "SIGXFSZ": " (file size limit)",
    }
    return f"the worker process was killed by {name}{hint.get(name, '')}"


def worker_uid() -> int | None:
    """The worker's own user when the grader is root (POSIX), else None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    return BASE_UID + os.getpid()


def chown_tree(folder: Path, uid: int) -> None:
    os.chown(folder, uid, uid)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def remove_tree(path: Path) -> None:
    """Remove the folder `path` and all the worker left in it; never raises, logs nothing.

    Whatever it made: folders nested to any depth, folders it made unreadable or read-only,
    FIFOs, sockets, links (removed, never followed: the files they name stay as they are).
    Only folders' modes are changed, never a file's (a hard link shares its file's mode),
    except on Windows, where a read-only file cannot be deleted otherwise.
    """
    with contextlib.suppress(OSError):
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return
        top = _enter(_Folder(os.path.dirname(os.path.abspath(path)), None), os.path.basename(path))
        try:
            _empty(top)
        finally:
            _leave(top)
    with contextlib.suppress(OSError):
        os.rmdir(path)


BY_DESCRIPTOR = {os.open, os.unlink, os.rmdir, os.rename, os.chmod} <= os.supports_dir_fd
"""Resolve every name inside an open folder (POSIX), so that no link on the way is followed;
elsewhere (Windows), by path."""


class _Folder(NamedTuple):
    """A folder being emptied: its path, and an open descriptor if BY_DESCRIPTOR."""

    path: str
    fd: int | None

    def at(self, name: str) -> tuple[str, int | None]:
        """`name` in this folder, as (path, dir_fd) arguments."""
        return (name, self.fd) if self.fd is not None else (os.path.join(self.path, name), None)


def _empty(top: _Folder) -> None:
    """Empty `top` one folder at a time, with no recursion and no long path: the subfolders
    of each folder are moved up into `top` before that folder is removed."""
    free_names = _free_names(top)
    pending = _clear(top, top, free_names)
    while pending:
        name = pending.pop()
        try:
            folder = _enter(top, name)
        except OSError:
            with contextlib.suppress(OSError):
                _unlink(*top.at(name))  # no longer a folder
            continue
        try:
            pending += _clear(folder, top, free_names)
        finally:
            _leave(folder)
        with contextlib.suppress(OSError):
            name, fd = top.at(name)
            os.rmdir(name, dir_fd=fd)


def _clear(folder: _Folder, top: _Folder, free_names: Iterator[str]) -> list[str]:
    """Unlink everything in `folder` but its subfolders, which move to `top` (from elsewhere)
    under a free name; return their names in `top`."""
    try:
        with os.scandir(folder.path if folder.fd is None else folder.fd) as it:
            entries = list(it)
    except OSError:
        return []
    moved = []
    for entry in entries:
        with contextlib.suppress(OSError):
            name, fd = folder.at(entry.name)
            if not entry.is_dir(follow_symlinks=False):
                _unlink(name, fd)
            elif folder is top:
                moved.append(entry.name)
            else:
                _make_writable(name, fd)  # moving a folder rewrites its ".."
                free = next(free_names)
                target, top_fd = top.at(free)
                os.rename(name, target, src_dir_fd=fd, dst_dir_fd=top_fd)
                moved.append(free)
    return moved


def _free_names(top: _Folder) -> Iterator[str]:
    """Names that nothing in `top` has."""
    for number in itertools.count():
        name, fd = top.at(f".removing-{number}")
        try:
            os.lstat(name, dir_fd=fd)
        except FileNotFoundError:
            yield f".removing-{number}"


def _enter(parent: _Folder, name: str) -> _Folder:
    """Open the folder `name` in `parent` (never through a link), readable and writable."""
    path, fd = parent.at(name)
    _make_writable(path, fd)
    if not BY_DESCRIPTOR:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise NotADirectoryError(path)
        return _Folder(path, None)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK
    return _Folder(os.path.join(parent.path, name), os.open(path, flags, dir_fd=fd))


def _make_writable(path: str, fd: int | None) -> None:
    """Let the grader's user list a folder and remove its entries (a link is left alone)."""
    with contextlib.suppress(OSError, NotImplementedError):
        os.chmod(path, 0o700, dir_fd=fd, follow_symlinks=not BY_DESCRIPTOR)


def _unlink(path: str, fd: int | None) -> None:
    try:
        os.unlink(path, dir_fd=fd)
    except PermissionError:
        if fd is not None:
            raise
        os.chmod(path, stat.S_IWRITE)  # Windows: a read-only file cannot be deleted
        os.unlink(path)


def _leave(folder: _Folder) -> None:
    if folder.fd is not None:
        with contextlib.suppress(OSError):
            os.close(folder.fd)


def site_packages() -> list[str]:
    import sysconfig

    paths = sysconfig.get_paths()
    return sorted({paths["purelib"], paths["platlib"]})


def scrubbed_environment(work: Path) -> dict[str, str]:
    """No tokens, no HOME secrets: only what Python needs to start."""
    env = {"PATH": os.defpath, "HOME": str(work), "TMPDIR": str(work), "LANG": "C.UTF-8"}
    if sys.platform == "win32":
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", "")
        env["TEMP"] = env["TMP"] = str(work)
    return env
