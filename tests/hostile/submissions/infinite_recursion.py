# ruff: noqa
"""Infinite recursion in backward()."""


def _recurse(self):
    return _recurse(self)


if ATTACK:
    Value.backward = _recurse
