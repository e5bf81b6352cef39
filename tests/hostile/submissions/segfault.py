# ruff: noqa
"""A segfault in native code: backward() reads address 0 with ctypes."""

import ctypes


def _segfault(self):
    ctypes.string_at(0)


if ATTACK:
    Value.backward = _segfault
