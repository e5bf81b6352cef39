# ruff: noqa
"""Leaving answers where a later submission (or one graded at the same time) could find them,
each holding the text "__IPC_NAME__": SysV shared memory, a SysV message queue and semaphores,
a POSIX message queue, files in /dev/shm, /tmp, /var/tmp and /dev/mqueue, keys in the session
and user keyrings, an abstract unix socket and a unix socket file in /tmp, both served by a
thread for as long as the worker lives. Prints what it made; `_remove_all` is for the test,
which also runs this file outside the sandbox."""

import ctypes
import os
import socket
import struct
import threading

KEY, NAME = __IPC_KEY__, "__IPC_NAME__"
SECRET = NAME.encode()
IPC_CREAT, IPC_NOWAIT, IPC_RMID = 0o1000, 0o4000, 0
ADD_KEY = {"x86_64": 248, "aarch64": 217}.get(os.uname().machine)
KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
SESSION_KEYRING, USER_KEYRING, KEYCTL_UNLINK = -3, -4, 9
FOLDERS = ("/dev/shm", "/tmp", "/var/tmp", "/dev/mqueue")
SOCKET_FILE = f"/tmp/{NAME}.sock"

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.shmat.restype = ctypes.c_void_p
_servers, _keys = [], []


def _report(what, ok):
    why = "" if ok else f": {os.strerror(ctypes.get_errno()) or 'failed'}"
    print(f"{'MADE' if ok else 'refused'} {what}{why}", flush=True)


def _posix_queue():
    for library in (libc, "librt.so.1"):
        try:
            found = library if library is libc else ctypes.CDLL(library, use_errno=True)
            return found.mq_open, found.mq_send, found.mq_unlink
        except (OSError, AttributeError):
            continue
    return None


def _serve(server):
    while True:
        try:
            connection, _ = server.accept()
            connection.sendall(SECRET)
            connection.close()
        except OSError:
            return


def _make_all():
    shm = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
    address = libc.shmat(shm, None, 0) if shm >= 0 else None
    if address not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(address, SECRET, len(SECRET))
    _report("SysV shared memory", address not in (None, ctypes.c_void_p(-1).value))
    queue = libc.msgget(KEY, IPC_CREAT | 0o666)
    message = ctypes.create_string_buffer(struct.pack("l", 1) + SECRET)
    _report(
        "SysV message queue",
        queue >= 0 and libc.msgsnd(queue, message, len(SECRET), IPC_NOWAIT) == 0,
    )
    _report("SysV semaphores", libc.semget(KEY, 1, IPC_CREAT | 0o666) >= 0)
    calls = _posix_queue()
    if calls is None:
        print("refused POSIX message queue: no mq_open", flush=True)
    else:
        mq_open, mq_send, _ = calls
        queue = mq_open(f"/{NAME}".encode(), os.O_CREAT | os.O_RDWR, 0o666, None)
        _report("POSIX message queue", queue >= 0 and mq_send(queue, SECRET, len(SECRET), 0) == 0)
    for folder in FOLDERS:
        try:
            with open(os.path.join(folder, NAME), "w") as f:
                f.write(NAME)
            os.chmod(os.path.join(folder, NAME), 0o666)
            print(f"MADE a file in {folder}", flush=True)
        except OSError as exc:
            print(f"refused a file in {folder}: {type(exc).__name__}", flush=True)
    for keyring, where in ((SESSION_KEYRING, "session"), (USER_KEYRING, "user")):
        key = (
            -1
            if ADD_KEY is None
            else libc.syscall(ADD_KEY, b"user", SECRET, SECRET, len(SECRET), ctypes.c_int(keyring))
        )
        _keys.extend([(key, keyring)] if key >= 0 else [])
        _report(f"a key in the {where} keyring", key >= 0)
    for address, what in (
        ("\0" + NAME, "an abstract unix socket"),
        (SOCKET_FILE, "a unix socket file"),
    ):
        try:
            server = socket.socket(socket.AF_UNIX)
            server.bind(address)
            server.listen()
            if not address.startswith("\0"):
                os.chmod(address, 0o777)
            _servers.append(server)
            threading.Thread(target=_serve, args=(server,), daemon=True).start()
            print(f"MADE {what}", flush=True)
        except OSError as exc:
            print(f"refused {what}: {type(exc).__name__}", flush=True)
    print("ready", flush=True)


def _remove_all():
    for server in _servers:
        server.close()
    for found, remove in (
        (libc.shmget(KEY, 0, 0), lambda shm: libc.shmctl(shm, IPC_RMID, None)),
        (libc.msgget(KEY, 0), lambda queue: libc.msgctl(queue, IPC_RMID, None)),
        (libc.semget(KEY, 0, 0), lambda semaphores: libc.semctl(semaphores, 0, IPC_RMID)),
    ):
        if found >= 0:
            remove(found)
    calls = _posix_queue()
    if calls is not None:
        calls[2](f"/{NAME}".encode())
    for path in [os.path.join(folder, NAME) for folder in FOLDERS] + [SOCKET_FILE]:
        try:
            os.unlink(path)
        except OSError:
            pass
    for key, keyring in _keys:  # the keyrings' own permissions let their user unlink them
        libc.syscall(KEYCTL, KEYCTL_UNLINK, ctypes.c_long(key), ctypes.c_int(keyring))


if ATTACK:
    _make_all()
