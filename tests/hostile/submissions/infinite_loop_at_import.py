# ruff: noqa
"""An infinite loop at import time."""

if ATTACK:
    while True:
        pass
