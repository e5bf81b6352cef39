# ruff: noqa
"""An output flood: 100 MB printed at import time."""

import sys

if ATTACK:
    chunk = ("flood " * 16 + "\n") * 10_000
    for _ in range(100_000_000 // len(chunk) + 1):
        sys.stdout.write(chunk)
