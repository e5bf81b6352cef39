# ruff: noqa
"""Signals: backward() ignores SIGTERM, sends itself SIGTERM and SIGKILL, sets an alarm, then
aborts (SIGABRT)."""

import os
import signal
import time


def _signals(self):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        os.kill(os.getpid(), sig)
    signal.alarm(1)
    time.sleep(0.2)
    os.abort()


if ATTACK:
    Value.backward = _signals
