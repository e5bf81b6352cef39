# ruff: noqa
"""Writing a fake report, then exiting: in its first backward(), the submission writes a
perfect-score report over the real report file and into its working folder, then ends the worker
with os._exit(0)."""

import json
import os

FAKE_REPORT = {"schema_version": 1, "score": 100.0, "max_score": 100.0, "faked": True}
_backward = Value.backward


def _fake_report_then_exit(self):
    for path in ("__REPORT__", "grader-report.json"):
        try:
            with open(path, "w") as f:
                json.dump(FAKE_REPORT, f)
            print(f"wrote a fake report to {path}")
        except OSError as exc:
            print(f"could not write a fake report to {path}: {type(exc).__name__}")
    os._exit(0)


if ATTACK:
    Value.backward = _fake_report_then_exit
