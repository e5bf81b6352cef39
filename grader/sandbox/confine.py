"""Confine the worker before any student code runs; report which limits are in force.

Each limit is applied where the platform offers it and skipped elsewhere (students run the
grader on macOS and Windows too); the returned mapping says what held. docs/grading.md lists
what each platform enforces.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.abc
import os
import signal
import stat
import struct
import sys
from typing import NoReturn

MB = 1024 * 1024
LINUX = sys.platform.startswith("linux")
PRELOADED = ("binascii", "zlib")
"""Stdlib extension modules that link a system library (libz) outside the readable folders."""
INSTALLED_PACKAGES = {"site-packages", "dist-packages"}


def apply(config: dict) -> dict[str, bool]:
    """Apply every limit in `config["limits"]`, in an order that keeps each one possible.

    Where the OS allows a new PID namespace, this process forks: the child, process 1 of the
    namespace, returns and carries on as the worker; the parent never returns (see
    `_stand_outside`). When process 1 ends, the kernel kills every process in its namespace.
    """
    limits = config["limits"]
    uid = limits["uid"]
    grader = os.getppid()
    _die_with_parent(grader)
    stdlib = [p for p in sys.path if os.path.exists(p)]  # all that `python -I -S` looks at
    site_packages = [p for p in config["site_packages"] if os.path.isdir(p)]
    if uid is not None:
        _reachable_by_others([*stdlib, *site_packages, config["writable"]])
    in_force = {
        # macOS accepts RLIMIT_AS but does not enforce it.
        "memory": _rlimit("RLIMIT_AS", limits["memory_mb"] * MB) and LINUX,
        "cpu_time": _rlimit("RLIMIT_CPU", limits["cpu_s"]),
        "file_size": _rlimit("RLIMIT_FSIZE", limits["max_file_mb"] * MB),
        "open_files": _rlimit("RLIMIT_NOFILE", limits["max_open_files"]),
        "core_dumps_off": _rlimit("RLIMIT_CORE", 0),
    }
    namespaces = _new_namespaces(limits["isolate_network"])
    in_force["network_namespace"] = "network" in namespaces
    in_force["pid_namespace"] = "pid" in namespaces
    if "pid" in namespaces:
        child = os.fork()
        if child != 0:
            _stand_outside(child)
    for name in PRELOADED:
        importlib.import_module(name)
    in_force["own_user"] = uid is not None and _drop_privileges(uid)
    _die_with_parent(None if "pid" in namespaces else grader)  # fork and setuid clear it
    # RLIMIT_NPROC counts the processes of a user in a user namespace; root is exempt.
    in_force["processes"] = (in_force["own_user"] or "user" in namespaces) and _rlimit(
        "RLIMIT_NPROC", limits["max_processes"]
    )
    landlock = (
        _landlock(stdlib, site_packages, config["writable"]) if limits["confine_filesystem"] else {}
    )
    in_force["filesystem"] = bool(landlock)
    in_force["network_tcp_blocked"] = landlock.get("network", False)
    in_force["signals_scoped"] = landlock.get("signals", False)
    sys.path[:] = stdlib + site_packages
    in_force["forbidden_imports"] = _forbid_imports(limits["forbidden_modules"])
    return in_force


def _rlimit(name: str, value: int) -> bool:
    try:
        import resource
    except ImportError:
        return False
    which = getattr(resource, name, None)
    if which is None:
        return False
    try:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        return False
    return True


def _libc():
    if not LINUX:
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    libc.syscall.restype = ctypes.c_long
    return libc


CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18


def _new_namespaces(network: bool) -> set[str]:
    """New PID and (if asked) network namespaces, inside a new user namespace unless root.

    A new network namespace has only a loopback device, which is down: no network at all.
    """
    libc = _libc()
    if libc is None:
        return set()
    user = set() if os.geteuid() == 0 else {"user"}
    wanted = [{"pid", "network"} if network else {"pid"}, {"network"} if network else set()]
    for names in wanted:
        if names and libc.unshare(_flags(names | user)) == 0:
            return names | user
    return set()


def _flags(names: set[str]) -> int:
    flags = {"user": CLONE_NEWUSER, "pid": CLONE_NEWPID, "network": CLONE_NEWNET}
    return sum(flags[name] for name in names)


PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int | None) -> None:
    """Be killed when the parent process ends, so that a worker whose grader was killed (e.g.
    by a batch timeout) does not run on; if `parent` is already gone, end now. (Inside a new
    PID namespace the parent cannot be seen: its pid is 0 there.)"""
    libc = _libc()
    if (
        libc is not None
        and libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        and parent is not None
        and os.getppid() != parent
    ):
        os._exit(1)


def _stand_outside(child: int) -> NoReturn:
    """The parent left outside the new PID namespace: hold no pipe, wait for the worker, then
    end the way it ended, so that the harness reads the worker's own exit status or signal."""
    os.closerange(0, 1 << 16)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


def _reachable_by_others(paths: list[str]) -> None:
    """Before a root worker drops to its own user: make `paths` reachable for that user.

    Python may live under a folder only root may enter (pyenv or uv under /root, mode 0700);
    the worker imports stdlib modules lazily, after the drop. In a mount namespace of its own,
    a tmpfs covers each such folder and holds bind mounts of just the paths beneath it: the
    paths stay the same, and the rest of the folder (root's home) disappears from view.
    """
    paths = _outermost(os.path.realpath(p) for p in paths)
    blocked: dict[str, list[str]] = {}
    for path in paths:
        blocker = _closed_ancestor(path)
        if blocker is not None:
            blocked.setdefault(blocker, []).append(path)
    libc = _libc()
    if (
        not blocked
        or libc is None
        or libc.unshare(CLONE_NEWNS) != 0
        or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0
    ):
        return  # then lazy imports fail; tests/hostile checks that they work in CI
    for blocker, beneath in blocked.items():
        sources = [os.open(p, os.O_PATH | os.O_CLOEXEC) for p in beneath]
        try:
            if (
                libc.mount(
                    b"tmpfs",
                    blocker.encode(),
                    b"tmpfs",
                    MS_NOSUID | MS_NODEV,
                    b"mode=0755,size=64k",
                )
                != 0
            ):
                return
            for path, fd in zip(beneath, sources, strict=True):
                os.makedirs(path, mode=0o755, exist_ok=True)
                libc.mount(
                    f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None
                )
        finally:
            for fd in sources:
                os.close(fd)


def _outermost(paths) -> list[str]:
    """The paths that are not beneath another one of them."""
    unique = sorted(set(paths))
    return [
        p
        for p in unique
        if not any(p.startswith(q.rstrip(os.sep) + os.sep) for q in unique if q != p)
    ]


def _closed_ancestor(path: str) -> str | None:
    """The outermost folder above `path` that other users may not enter, if any."""
    parts = path.split(os.sep)
    for depth in range(2, len(parts)):
        folder = os.sep.join(parts[:depth])
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def _drop_privileges(uid: int) -> bool:
    """Run as a user of our own: it owns nothing outside the worker's folder."""
    if not hasattr(os, "setuid") or os.geteuid() != 0:
        return False
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    except OSError:
        return False
    return True


# Landlock (Linux >= 5.13): unprivileged filesystem, network and signal confinement.
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
PR_SET_NO_NEW_PRIVS = 38
RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | (1 << 14) | (1 << 15)
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2


def _landlock(stdlib: list[str], site_packages: list[str], writable: str) -> dict[str, bool]:
    """Read only the stdlib (and allowed site-packages), read and write only the worker's
    folder; on newer kernels also no TCP and no signals out. {} when Landlock is missing."""
    libc = _libc()
    if libc is None or struct.calcsize("P") != 8:
        return {}
    abi = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return {}
    fs_rights = FS_RIGHTS_BY_ABI[max(k for k in FS_RIGHTS_BY_ABI if k <= abi)]
    net_rights = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("QQQ", fs_rights, net_rights, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(SYS_CREATE_RULESET, attr[:size], ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return {}
    try:
        rules = [(writable, fs_rights & ~FS_EXECUTE), (os.devnull, FS_READ_FILE | FS_WRITE_FILE)]
        for folder in stdlib:
            rules += _stdlib_rules(folder)
        rules += [(folder, FS_READ_FILE | FS_READ_DIR) for folder in site_packages]
        for path, rights in rules:
            if not _allow(libc, ruleset, path, rights & fs_rights):
                return {}
        if (
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            or libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) != 0
        ):
            return {}
    finally:
        os.close(ruleset)
    return {"network": bool(net_rights), "signals": bool(scoped)}


def _stdlib_rules(folder: str) -> list[tuple[str, int]]:
    """List `folder`, read everything in it but the packages installed there (pyenv and uv
    keep site-packages inside the stdlib folder, torch included)."""
    if not os.path.isdir(folder):
        return [(folder, FS_READ_FILE)]
    return [(folder, FS_READ_DIR)] + [
        (os.path.join(folder, name), FS_READ_FILE | FS_READ_DIR)
        for name in sorted(os.listdir(folder))
        if name not in INSTALLED_PACKAGES
    ]


def _allow(libc, ruleset: int, path: str, rights: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return True  # nothing there to allow
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FS_FILE_RIGHTS
        rule = struct.pack("=Qi", rights, fd)
        return libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, rule, 0) == 0
    finally:
        os.close(fd)


class _ForbiddenImports(importlib.abc.MetaPathFinder):
    """Refuse libraries that would compute the gradients for the student."""

    def __init__(self, names: list[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            raise ImportError(
                f"import {fullname} is not allowed in this assignment: build it from scratch "
                "with the standard library (math, random) only"
            )
        return None


def _forbid_imports(names: list[str]) -> bool:
    if names:
        sys.meta_path.insert(0, _ForbiddenImports(names))
    return bool(names)
