# ruff: noqa
"""os._exit(3) in every backward() call: the worker process ends at once."""

import os


def _exit(self):
    os._exit(3)


if ATTACK:
    Value.backward = _exit
