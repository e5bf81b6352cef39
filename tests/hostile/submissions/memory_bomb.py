# ruff: noqa
"""A memory bomb: backward() fills memory 1 MB at a time, touching every page, until it fails."""


def _bomb(self):
    hoard = []
    while True:
        hoard.append(b"x" * 2**20)


if ATTACK:
    Value.backward = _bomb
