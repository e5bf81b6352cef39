# ruff: noqa
"""Closing the worker's pipes: backward() closes every file descriptor of the worker, the
grader's private request and reply pipes included."""

import os


def _close_everything(self):
    os.closerange(0, 1024)


if ATTACK:
    Value.backward = _close_everything
