# ruff: noqa
"""A daemon that means to outlive grading: at import, double fork and setsid; the grandchild
names itself sg-daemon, prints its pid and sleeps for an hour."""

import ctypes
import os
import time

PR_SET_NAME = 15


def _daemon():
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    ctypes.CDLL(None).prctl(PR_SET_NAME, b"sg-daemon", 0, 0, 0)
    print(f"daemon pid {os.getpid()}", flush=True)
    while True:
        time.sleep(3600)


if ATTACK:
    child = os.fork()
    if child == 0:
        _daemon()
    os.waitpid(child, 0)
