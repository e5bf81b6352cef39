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
from typing import NamedTuple, NoReturn

MB = 1024 * 1024
LINUX = sys.platform.startswith("linux")
PRELOADED = ("binascii", "zlib")
"""Stdlib extension modules that link a system library (libz) outside the readable folders."""
INSTALLED_PACKAGES = {"site-packages", "dist-packages"}


def apply(config: dict) -> dict[str, bool]:
    """Apply every limit in `config["limits"]`, in an order that keeps each one possible.

    Where the OS allows a new PID namespace, this process forks: the child, process 1 of the
    namespace, returns and carries on as the worker; the parent never returns (see
    `_stand_outside`). When process 1 ends, the kernel kills every process in its namespace
    and frees what they made there: IPC objects, the private root and its folder.
    """
    limits = config["limits"]
    uid = limits["uid"]
    grader = os.getppid()
    _die_with_parent(grader)
    stdlib = [p for p in sys.path if os.path.exists(p)]  # all that `python -I -S` looks at
    site_packages = [p for p in config["site_packages"] if os.path.isdir(p)]
    namespaces = _new_namespaces(limits["isolate_network"])
    private_root = "mount" in namespaces and _private_root(
        stdlib, site_packages, config["writable"], uid, limits["max_file_mb"] * MB
    )
    in_force = {  # set once the submission is copied: a large notebook exceeds RLIMIT_FSIZE
        # macOS accepts RLIMIT_AS but does not enforce it.
        "memory": _rlimit("RLIMIT_AS", limits["memory_mb"] * MB) and LINUX,
        "cpu_time": _rlimit("RLIMIT_CPU", limits["cpu_s"]),
        "file_size": _rlimit("RLIMIT_FSIZE", limits["max_file_mb"] * MB),
        "open_files": _rlimit("RLIMIT_NOFILE", limits["max_open_files"]),
        "core_dumps_off": _rlimit("RLIMIT_CORE", 0),
        "network_namespace": "network" in namespaces,
        "pid_namespace": "pid" in namespaces,
        "ipc_namespace": "ipc" in namespaces,
        "mount_namespace": private_root,
    }
    if "pid" in namespaces:
        child = os.fork()
        if child != 0:
            _stand_outside(child)
    for name in PRELOADED:
        importlib.import_module(name)
    in_force["own_user"] = uid is not None and _drop_privileges(uid)
    _drop_capabilities()  # those a user namespace gives, or a root that could not drop
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
    in_force["keyrings_blocked"] = in_force["memory_files_blocked"] = _refuse_calls()
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
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = {"mount": CLONE_NEWNS, "ipc": CLONE_NEWIPC, "pid": CLONE_NEWPID}


class _Machine(NamedTuple):
    """What differs by CPU: seccomp's name for it, and the numbers of the calls that glibc
    has no function for."""

    audit_arch: int
    pivot_root: int
    capset: int
    keys: tuple[int, ...]
    """add_key, request_key, keyctl."""
    memory_files: tuple[int, ...]
    """memfd_create, memfd_secret."""


MACHINES = {
    "x86_64": _Machine(
        0xC000003E, pivot_root=155, capset=126, keys=(248, 249, 250), memory_files=(319, 447)
    ),
    "aarch64": _Machine(
        0xC00000B7, pivot_root=41, capset=91, keys=(217, 218, 219), memory_files=(279, 447)
    ),
}
MACHINE = MACHINES.get(os.uname().machine) if LINUX else None


def _new_namespaces(network: bool) -> set[str]:
    """New mount, IPC, PID and (if asked) network namespaces, inside a new user namespace
    unless root; each one where the OS allows it.

    A new network namespace has only a loopback device, which is down: no network at all, and
    no abstract unix socket of the host. A new IPC namespace has no SysV object nor POSIX
    message queue of the host, and the kernel frees those made in it when its processes end.
    """
    libc = _libc()
    if libc is None:
        return set()
    made = set()
    if os.geteuid() != 0:
        if not _user_namespace(libc):
            return set()
        made.add("user")
    wanted = {**NAMESPACES, **({"network": CLONE_NEWNET} if network else {})}
    return made | {name for name, flag in wanted.items() if libc.unshare(flag) == 0}


def _user_namespace(libc) -> bool:
    """A new user namespace in which the grader's user keeps its own ids (files made in the
    private root's tmpfs need a mapped owner)."""
    uid, gid = os.getuid(), os.getgid()
    maps = {"setgroups": "deny", "uid_map": f"{uid} {uid} 1", "gid_map": f"{gid} {gid} 1"}
    if libc.unshare(CLONE_NEWUSER) != 0:
        return False
    for name, text in maps.items():
        with contextlib.suppress(OSError), open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    return True


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


MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME, ST_RELATIME, MNT_DETACH = 1 << 18, 1 << 21, 4096, 2
FOLDER_FILES = 10_000
"""Files and folders the worker's private folder may hold, the submission's included."""
FOLDER_FILES_OF_MAX_SIZE = 4
"""The private folder holds the submission and this many files of `max_file_mb` at most."""


def _private_root(
    stdlib: list[str], site_packages: list[str], writable: str, uid: int | None, max_file: int
) -> bool:
    """In the new mount namespace, make the worker's root a read-only tmpfs that holds only
    the stdlib and allowed site-packages (read-only), /dev/null, and its folder, all at their
    own paths. The folder is a copy of the staged submission on a tmpfs of its own, bounded
    in size and files, which the kernel frees with the namespace.

    Nothing else of the host is there: no /tmp, /dev/shm or /dev/mqueue to leave files in, no
    unix socket of the host's services, no other user's folders; nor, on kernels without
    Landlock, anything to read. The harness's copy of the folder is never written.
    """
    libc = _libc()
    if libc is None or MACHINE is None:
        return False
    new = os.path.dirname(os.path.abspath(__file__))  # the grader's copy: all imported by now
    hidden = [
        os.path.join(folder, name)
        for folder in stdlib
        for name in sorted(INSTALLED_PACKAGES)
        if os.path.isdir(os.path.join(folder, name))
        and os.path.join(folder, name) not in site_packages
    ]
    umask = os.umask(0o022)  # the worker's user must be able to enter every folder made here
    try:
        _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates to the host
        _mount(libc, "tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        for path in [*_outermost(stdlib + site_packages), os.devnull]:
            _bind_read_only(libc, path, new + path)
        for path in hidden:  # pyenv and uv keep site-packages inside the stdlib folder
            _mount(libc, "tmpfs", _mount_point(new + path, True), "tmpfs", MS_RDONLY, "size=4k")
        _private_folder(libc, writable, new + writable, uid, max_file)
        _mount(libc, None, new, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.chdir(new)
        _check(libc.syscall(MACHINE.pivot_root, b".", b"."))
        _check(libc.umount2(b".", MNT_DETACH))
    except OSError:
        return False
    finally:
        os.umask(umask)
        os.chdir(writable)  # the private folder, or the harness's if that failed
    return True


def _mount(libc, source, target: str, kind, flags: int, options: str | None = None) -> None:
    encoded = [None if x is None else os.fsencode(x) for x in (source, target, kind, options)]
    _check(libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]))


def _check(result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def _mount_point(path: str, folder: bool) -> str:
    """An empty folder or file at `path` to mount on, its parent folders made as needed."""
    os.makedirs(path if folder else os.path.dirname(path), mode=0o755, exist_ok=True)
    if not folder:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
    return path


def _bind_read_only(libc, source: str, target: str) -> None:
    """Bind `source` at `target`, read-only; a bind keeps the flags it may not drop."""
    _mount(libc, source, _mount_point(target, os.path.isdir(source)), None, MS_BIND | MS_REC)
    flags = os.statvfs(source).f_flag
    kept = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    kept |= MS_RELATIME if flags & ST_RELATIME else 0
    _mount(libc, None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)


def _private_folder(libc, source: str, target: str, uid: int | None, max_file: int) -> None:
    """A tmpfs at `target` with a copy of `source` (a few regular files and folders), owned
    by the worker's user."""
    tree = list(os.walk(source))
    size = sum(os.lstat(os.path.join(d, n)).st_size for d, _, files in tree for n in files)
    owner = "" if uid is None else f",uid={uid},gid={uid}"
    _mount(
        libc,
        "tmpfs",
        _mount_point(target, True),
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"mode=0700,size={size + FOLDER_FILES_OF_MAX_SIZE * max_file},"
        f"nr_inodes={FOLDER_FILES}{owner}",
    )
    for folder, subfolders, files in tree:
        copy = os.path.join(target, os.path.relpath(folder, source))
        for name in subfolders + files:
            mode = os.lstat(os.path.join(folder, name)).st_mode
            if stat.S_ISDIR(mode):
                os.mkdir(os.path.join(copy, name), 0o700)
            elif stat.S_ISREG(mode):
                _copy_file(os.path.join(folder, name), os.path.join(copy, name))
            else:
                continue  # staging copies no links; nothing else belongs there
            if uid is not None:
                os.chown(os.path.join(copy, name), uid, uid)


def _copy_file(source: str, target: str) -> None:
    reader = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        writer = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            while chunk := os.read(reader, 1 << 20):
                os.write(writer, chunk)
        finally:
            os.close(writer)
    finally:
        os.close(reader)


def _outermost(paths) -> list[str]:
    """The paths that are not beneath another one of them."""
    unique = sorted(set(paths))
    return [
        p
        for p in unique
        if not any(p.startswith(q.rstrip(os.sep) + os.sep) for q in unique if q != p)
    ]


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


def _drop_capabilities() -> None:
    """Hold no capability: none of those that a new user namespace gives its first process
    (which could undo the private root's mounts)."""
    libc = _libc()
    if libc is not None and MACHINE is not None:
        header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        libc.syscall(MACHINE.capset, header, bytes(24))


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


# Seccomp: refuse the system calls of the kernel's keyrings.
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
BPF_LOAD, BPF_JEQ, BPF_JGE, BPF_RETURN = 0x20, 0x15, 0x35, 0x06
SECCOMP_ALLOW, SECCOMP_EPERM = 0x7FFF0000, 0x00050000 | 1
X32_CALLS = 0x40000000
"""x86_64's x32 calls carry this bit: refused too (another ABI, other numbers)."""


class _FilterProgram(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _refuse_calls() -> bool:
    """Refuse, with EPERM, two kinds of calls that no namespace or limit covers:

    - add_key, request_key and keyctl, as Docker's default profile does. No namespace holds
      the kernel's keyrings: every worker inherits the grader's session keyring, and a user's
      keys outlive its processes. A worker could read the grader's keys and leave answers
      there for the next submission.
    - memfd_create and memfd_secret. A memory file that is never mapped counts in neither the
      address-space limit nor any process's resident memory: a few processes holding 15 MB
      files took 3.8 GB of the host's memory under a 1,024 MB `memory_mb`.

    Calls of another ABI (32-bit ones from a 64-bit process) are refused as well.
    """
    libc = _libc()
    if libc is None or MACHINE is None:
        return False
    calls = (*MACHINE.keys, *MACHINE.memory_files)
    refused = [(BPF_JGE, X32_CALLS), *((BPF_JEQ, number) for number in calls)]
    program = [
        (BPF_LOAD, 0, 0, 4),  # seccomp_data.arch
        (BPF_JEQ, 1, 0, MACHINE.audit_arch),
        (BPF_RETURN, 0, 0, SECCOMP_EPERM),
        (BPF_LOAD, 0, 0, 0),  # seccomp_data.nr
        *((jump, len(refused) - i, 0, k) for i, (jump, k) in enumerate(refused)),
        (BPF_RETURN, 0, 0, SECCOMP_ALLOW),
        (BPF_RETURN, 0, 0, SECCOMP_EPERM),
    ]
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in program))
    fprog = _FilterProgram(len(program), ctypes.addressof(code))
    return (
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
        and libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
    )


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
