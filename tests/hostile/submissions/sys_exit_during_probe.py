# ruff: noqa
"""sys.exit(3) in every backward() call."""

import sys


def _exit(self):
    sys.exit(3)


if ATTACK:
    Value.backward = _exit
