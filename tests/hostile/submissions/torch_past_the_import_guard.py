# ruff: noqa
"""Getting torch past the import guard: remove the grader's finder from sys.meta_path, put the
harness's site-packages on sys.path, and import torch and numpy again."""

import sys

if ATTACK:
    sys.meta_path[:] = [f for f in sys.meta_path if "Forbidden" not in type(f).__name__]
    sys.path.append("__SITE_PACKAGES__")
    for name in ("torch", "numpy"):
        try:
            __import__(name)
            print(f"IMPORTED {name}")
        except BaseException as exc:
            print(f"refused {name}: {type(exc).__name__}: {exc}")
