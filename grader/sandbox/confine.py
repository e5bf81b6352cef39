"""Confine the worker before any student code runs; report which limits are in force.

Each limit is applied where the platform offers it and skipped quietly elsewhere (students run
the grader on macOS and Windows too); the returned mapping says what held.
"""

from __future__ import annotations

import ctypes
import importlib.abc
import os
import struct
import sys

MB = 1024 * 1024


def apply(config: dict) -> dict[str, bool]:
    """Apply every limit in `config["limits"]`, in an order that keeps each one possible."""
    limits = config["limits"]
    in_force = {
        "network_namespace": limits["isolate_network"] and _new_network_namespace(),
        "memory": _rlimit("RLIMIT_AS", limits["memory_mb"] * MB),
        "cpu_time": _rlimit("RLIMIT_CPU", limits["cpu_s"]),
        "file_size": _rlimit("RLIMIT_FSIZE", limits["max_file_mb"] * MB),
        "open_files": _rlimit("RLIMIT_NOFILE", limits["max_open_files"]),
        "core_dumps_off": _rlimit("RLIMIT_CORE", 0),
    }
    in_force["own_user"] = limits["uid"] is not None and _drop_privileges(limits["uid"])
    # RLIMIT_NPROC counts processes per user and is not enforced for root.
    in_force["processes"] = os.geteuid() != 0 and _rlimit("RLIMIT_NPROC", limits["max_processes"])
    in_force["filesystem"] = limits["confine_filesystem"] and _landlock(
        config["readable"], config["writable"]
    )
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
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _new_network_namespace() -> bool:
    """A fresh network namespace has only a loopback device that is down: no network at all."""
    libc = _libc()
    if libc is None:
        return False
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    return libc.unshare(flags) == 0


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


def _landlock(readable: list[str], writable: list[str]) -> bool:
    """Allow reading only the stdlib and the worker's folder, writing only the latter."""
    libc = _libc()
    if libc is None or struct.calcsize("P") != 8:
        return False
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return False
    fs_rights = FS_RIGHTS_BY_ABI[max(k for k in FS_RIGHTS_BY_ABI if k <= abi)]
    net_rights = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("QQQ", fs_rights, net_rights, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(SYS_CREATE_RULESET, attr[:size], ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return False
    try:
        read_rights = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
        rules = [(path, read_rights) for path in readable]
        rules += [(path, fs_rights) for path in writable]
        rules.append(("/dev/null", FS_READ_FILE | FS_WRITE_FILE))
        for path, rights in rules:
            if not _allow(libc, ruleset, path, rights & fs_rights):
                return False
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)


def _allow(libc, ruleset: int, path: str, rights: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return True  # nothing there to allow
    try:
        if not os.path.isdir(path):
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
