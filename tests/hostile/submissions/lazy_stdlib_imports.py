# ruff: noqa
"""Not an attack: backward() imports standard-library modules lazily, after the worker dropped
its privileges and confined itself. It must keep every point."""

_backward = Value.backward


def _backward_with_lazy_imports(self):
    import base64, bisect, collections, copy, dataclasses, datetime, decimal, enum, fractions
    import functools, hashlib, heapq, itertools, json, statistics, string, struct, textwrap
    import typing, zlib

    statistics.fmean([1.0, 2.0])
    base64.b64encode(zlib.compress(b"lazy"))
    _backward(self)


if ATTACK:
    Value.backward = _backward_with_lazy_imports
