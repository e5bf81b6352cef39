# ruff: noqa
"""atexit rewrites of the report: hooks that overwrite the report file are registered with
atexit, on SIGTERM, and in place of os._exit and sys.exit, and backward() calls sys.exit()."""

import atexit
import json
import os
import signal
import sys

FAKE_REPORT = {"schema_version": 1, "score": 100.0, "max_score": 100.0, "faked": True}


def _rewrite_report(*args):
    try:
        with open("__REPORT__", "w") as f:
            json.dump(FAKE_REPORT, f)
        print("rewrote the report")
    except OSError as exc:
        print(f"could not rewrite the report: {type(exc).__name__}")


def _exit_after_rewriting(real_exit):
    def exit(*args):
        _rewrite_report()
        real_exit(*args)

    return exit


_backward = Value.backward


def _backward_then_exit(self):
    _backward(self)
    sys.exit(0)


if ATTACK:
    atexit.register(_rewrite_report)
    signal.signal(signal.SIGTERM, _rewrite_report)
    os._exit = _exit_after_rewriting(os._exit)
    sys.exit = _exit_after_rewriting(sys.exit)
    Value.backward = _backward_then_exit
