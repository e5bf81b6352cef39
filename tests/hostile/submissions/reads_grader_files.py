# ruff: noqa
"""Reading what the grader keeps from the worker: its suites, hidden tests, reference solutions,
another submission, root's ~/.ssh, a secret file, the harness's environment; and writing an entry
into the oracle cache. Each attempt prints what it got."""

import os

TARGETS = {
    "suites": "__GRADER__/suites/test_backward.py",
    "hidden tests": "__GRADER__/hidden",
    "reference solution": "__REPO__/solutions/engine.py",
    "another submission": "__OTHER_SUBMISSION__",
    "secret file": "__SECRET_FILE__",
    "root's ssh keys": "/root/.ssh",
    "the harness's environment": f"/proc/{os.getppid()}/environ",
    "the temporary folder": os.path.dirname(os.getcwd().rstrip("/").rsplit("/", 1)[0]),
    "the oracle cache": "__CACHE__",
}


def _attempt(what, path):
    try:
        if os.path.isdir(path):
            got = ", ".join(sorted(os.listdir(path))[:5])
        else:
            with open(path, "rb") as f:
                got = f.read(120)
        print(f"READ {what}: {got!r}")
    except OSError as exc:
        print(f"blocked {what}: {type(exc).__name__}")


if ATTACK:
    for what, path in TARGETS.items():
        _attempt(what, path)
    try:
        with open("__CACHE__/poisoned.json", "w") as f:
            f.write("{}")
        print("WROTE into the oracle cache")
    except OSError as exc:
        print(f"blocked writing the oracle cache: {type(exc).__name__}")
    print("environment:", sorted(os.environ))
