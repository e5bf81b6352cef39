# ruff: noqa
"""An infinite loop in every backward() call: forward values are right, nothing else answers."""


def _hang(self):
    while True:
        pass


if ATTACK:
    Value.backward = _hang
