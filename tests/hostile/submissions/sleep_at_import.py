# ruff: noqa
"""A sleep of an hour at import time."""

import time

if ATTACK:
    time.sleep(3600)
