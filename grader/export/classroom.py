"""GitHub Classroom's grading reporter: its base64 result and the Points line it will print."""

from __future__ import annotations

import base64
import json
import math
from fractions import Fraction
from typing import Any

from grader.export.causes import (
    BLOCKED_MESSAGE,
    blocked_summary,
    cause_line,
    kept,
    listed,
    root_causes,
    shown_feedback,
    shown_name,
    status_prefix,
)
from grader.export.text import NAME_CHARS, capped, clean

# The reporter reads the result from one environment variable; Linux caps each at 128 KiB.
_MAX_BYTES = 100_000
_MESSAGE_LIMITS = (1000, 300, 80, 0)
_QUANTUM = Fraction(1, 1024)
"""Classroom scores are multiples of this: the reporter's float sum is then exact in any order."""


def classroom(report: dict[str, Any]) -> tuple[str, str]:
    """The base64 result for GitHub Classroom's grading reporter, and the Points line that the
    reporter will print from it (it adds up the rows' scores as they come)."""
    rows = _rows(report)
    scores = _exact_shares([row.pop("_points") for row in rows], report["score"])
    for row, score in zip(rows, scores, strict=True):
        row["score"] = score
    for limit in _MESSAGE_LIMITS:
        tests = [row | {"message": capped(row["message"], limit)} for row in rows]
        payload = {
            "version": 1,
            "status": _status(report, rows),
            "max_score": report["max_score"],
            "tests": tests,
        }
        encoded = base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")
        if len(encoded) <= _MAX_BYTES:
            break
    total = sum(scores)
    return encoded, f"Points {_js_number(total)}/{_js_number(report['max_score'])}"


def _rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The reporter prints each row as it comes: "✅ name", "❌ name", or, for an error,
    "Error: message". Every field is one line: the log runs workflow commands."""

    def row(name: str, status: str, message: str, points: float, seconds: float) -> dict:
        return {
            "name": _one_line(capped(name, NAME_CHARS)),
            "status": status,
            "message": _one_line(message),
            "test_code": "",
            "filename": "",
            # The reporter prints "- line N" for any line_no other than 0.
            "line_no": 0,
            "duration": round(seconds * 1000),
            "_points": points,
        }

    rows = [
        row(f"Problem with the submission ({error['kind']})", "error", error["message"], 0, 0)
        for error in report["errors"]
    ]
    blocked = blocked_summary(report)
    if blocked is not None:
        rows.append(row(blocked.name, "fail", BLOCKED_MESSAGE, blocked.score, blocked.duration_s))
    for number, cause in enumerate(root_causes(report, gradescope=False), start=1):
        name = f"What to fix {number}: {cause_line(cause)}: {cause.message}"
        rows.append(row(name, "fail", cause.message, 0, 0))
    for _, section, _, test in listed(report):
        status = {"passed": "pass", "failed": "fail", "skipped": "fail"}.get(
            test["status"], "error"
        )
        if test["status"] == "blocked":
            status = "pass" if kept(test) else "fail"
        message = status_prefix(test) + shown_feedback(test)
        rows.append(
            row(shown_name(section, test), status, message, test["score"], test["duration_s"])
        )
    return rows


def _status(report: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """error if the report has errors, fail if any row did not pass, else pass."""
    if report["errors"]:
        return "error"
    return "pass" if all(row["status"] == "pass" for row in rows) else "fail"


def _exact_shares(points: list[float], total: float) -> list[float]:
    """Per-row scores that add up to `total` (rounded down to 1/1024) exactly, in any order.

    Each row gets its share of `total` by cumulative rounding down to the quantum, so the
    shares add up to the rounded total; multiples of 1/1024 below 2**43 add without rounding
    error. Eighths, as the plugin gives, come out unchanged."""
    weights = [Fraction(max(p, 0.0)) for p in points]
    whole = sum(weights)
    if whole == 0:
        weights, whole = [Fraction(1)] * len(points), Fraction(len(points))
    units = math.floor(Fraction(max(total, 0.0)) / _QUANTUM)
    shares, done, running = [], 0, Fraction(0)
    for weight in weights:
        running += weight
        upto = math.floor(units * running / whole)
        shares.append(float((upto - done) * _QUANTUM))
        done = upto
    return shares


def _js_number(value: float) -> str:
    """How JavaScript prints a number between 1e-6 and 1e16 (the reporter's `${x}`)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _one_line(text: str) -> str:
    """One line, and no legacy `##[command]` for the Actions log to obey."""
    return " ".join(clean(text).split("\n")).replace("\r", " ").replace("##[", "#\u200b#[")
