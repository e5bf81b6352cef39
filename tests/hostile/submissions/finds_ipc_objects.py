# ruff: noqa
"""Replaying what another submission left: looks for every object that leaves_ipc_objects
makes (SysV shared memory, message queue and semaphores, a POSIX message queue, files in
/dev/shm, /tmp, /var/tmp and /dev/mqueue, keys in the session and user keyrings, an abstract
unix socket, a unix socket file in /tmp) and prints FOUND with what it read, or "none"."""

import ctypes
import os
import socket
import struct

KEY, NAME = __IPC_KEY__, "__IPC_NAME__"
SECRET = NAME.encode()
IPC_NOWAIT = 0o4000
KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
SESSION_KEYRING, USER_KEYRING, KEYCTL_SEARCH, KEYCTL_READ = -3, -4, 10, 11

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.shmat.restype = ctypes.c_void_p


def _say(what, got):
    if got:
        print(f"FOUND {what}: {got!r}", flush=True)
    else:
        print(f"none {what}: {os.strerror(ctypes.get_errno()) or 'not there'}", flush=True)


def _shared_memory():
    shm = libc.shmget(KEY, 0, 0)
    address = libc.shmat(shm, None, 0) if shm >= 0 else None
    if address in (None, ctypes.c_void_p(-1).value):
        return None
    return ctypes.string_at(address, len(SECRET))


def _message():
    queue = libc.msgget(KEY, 0)
    buffer = ctypes.create_string_buffer(8 + 256)
    if queue < 0 or libc.msgrcv(queue, buffer, 256, 0, IPC_NOWAIT) < 0:
        return None
    return buffer.raw[8 : 8 + len(SECRET)]


def _posix_message():
    for library in (libc, "librt.so.1"):
        try:
            found = library if library is libc else ctypes.CDLL(library, use_errno=True)
            mq_open, mq_receive = found.mq_open, found.mq_receive
        except (OSError, AttributeError):
            continue
        queue = mq_open(f"/{NAME}".encode(), os.O_RDONLY | os.O_NONBLOCK)
        buffer = ctypes.create_string_buffer(1 << 16)
        if queue < 0 or mq_receive(queue, buffer, len(buffer), None) < 0:
            return None
        return buffer.value
    return None


def _key(keyring):
    if KEYCTL is None:
        return None
    key = libc.syscall(KEYCTL, KEYCTL_SEARCH, ctypes.c_int(keyring), b"user", SECRET, 0)
    buffer = ctypes.create_string_buffer(256)
    if key < 0 or libc.syscall(KEYCTL, KEYCTL_READ, ctypes.c_long(key), buffer, 256) < 0:
        return None
    return buffer.value


def _file(path):
    try:
        with open(path, "rb") as f:
            return f.read(100)
    except OSError as exc:
        ctypes.set_errno(exc.errno or 0)
        return None


def _connect(address):
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(2)
            client.connect(address)
            return client.recv(100)
    except OSError as exc:
        ctypes.set_errno(exc.errno or 0)
        return None


if ATTACK:
    _say("SysV shared memory", _shared_memory())
    _say("SysV message queue", _message())
    _say("SysV semaphores", libc.semget(KEY, 0, 0) >= 0 and b"a semaphore set")
    _say("POSIX message queue", _posix_message())
    for folder in ("/dev/shm", "/tmp", "/var/tmp", "/dev/mqueue"):
        _say(f"a file in {folder}", _file(os.path.join(folder, NAME)))
    _say("a key in the session keyring", _key(SESSION_KEYRING))
    _say("a key in the user keyring", _key(USER_KEYRING))
    _say("an abstract unix socket", _connect("\0" + NAME))
    _say("a unix socket file", _connect(f"/tmp/{NAME}.sock"))
