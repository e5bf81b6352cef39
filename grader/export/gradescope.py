"""Gradescope's results.json: the grade, what to fix numbered 0.N, then every listed test."""

from __future__ import annotations

from typing import Any

from grader.export.causes import (
    BLOCKED_MESSAGE,
    SUBMISSION,
    all_tests,
    blocked_summary,
    cause_line,
    kept,
    listed,
    root_causes,
    status_prefix,
)
from grader.export.text import NAME_CHARS, capped, clean, points, ratio

_OUTPUT_CHARS = 10_000


def gradescope(report: dict[str, Any]) -> dict[str, Any]:
    """Gradescope's results.json: the top-level score is the grade; hidden tests show once
    grades are published; root causes come first, numbered 0.N."""
    entries: list[dict[str, Any]] = []
    blocked = blocked_summary(report)
    if blocked is not None:
        entries.append(
            {
                "score": blocked.score,
                "max_score": blocked.max_score,
                "status": "failed",
                "name": blocked.name,
                "name_format": "text",
                "number": "0.1",
                "output": BLOCKED_MESSAGE,
                "output_format": "text",
                "tags": ["blocked"],
                "visibility": "visible",
                "extra_data": {"status": "blocked", "blocked_by": SUBMISSION},
            }
        )
    for number, cause in enumerate(root_causes(report, gradescope=True), start=1):
        entries.append(
            {
                "status": "failed",
                "name": capped(f"What to fix {number}: {cause_line(cause)}", NAME_CHARS),
                "name_format": "text",
                "number": f"0.{len(entries) + 1}",
                "output": capped(cause.message, _OUTPUT_CHARS),
                "output_format": "text",
                "tags": ["what to fix"],
                "visibility": "after_published" if cause.hidden else "visible",
                "extra_data": {},
            }
        )
    for i, section, j, test in listed(report):
        status = test["status"]
        passed = status == "passed" or (status == "blocked" and kept(test))
        tags = [section["id"]] + ([f"task {test['task']}"] if test["task"] is not None else [])
        entries.append(
            {
                "score": test["score"],
                "max_score": test["max_score"],
                "status": "passed" if passed else "failed",
                "name": capped(test["name"], NAME_CHARS),
                "name_format": "text",
                "number": f"{i}.{j}",
                "output": capped(status_prefix(test) + test["feedback"], _OUTPUT_CHARS),
                "output_format": "text",
                "tags": tags,
                "visibility": "after_published" if test["visibility"] == "hidden" else "visible",
                "extra_data": {
                    "id": test["id"],
                    "section": section["id"],
                    "status": status,
                    "task": test["task"],
                    "blocked_by": test["blocked_by"],
                },
            }
        )
    return {
        # Given explicitly, this overrides Gradescope's own sum of the test scores.
        "score": report["score"],
        "execution_time": round(report["duration_s"]),
        "output": capped(_summary(report), _OUTPUT_CHARS),
        "output_format": "text",
        "visibility": "visible",
        # The grader's own log may name hidden tests; keep it for instructors.
        "stdout_visibility": "hidden",
        "tests": entries,
    }


def _summary(report: dict[str, Any]) -> str:
    """What a student may see before grades are published: hidden tests are only counted."""
    tests = [t for *_, t in all_tests(report)]
    hidden = [t for t in tests if t["visibility"] == "hidden"]
    if hidden:
        visible = [t for t in tests if t["visibility"] == "visible"]
        lines = [
            "Visible tests: "
            + ratio(sum(t["score"] for t in visible), sum(t["max_score"] for t in visible))
            + " points.",
            f"{len(hidden)} hidden tests worth {points(sum(t['max_score'] for t in hidden))} "
            "points are graded too; their results appear when grades are published.",
        ]
    else:
        lines = [f"Score: {ratio(report['score'], report['max_score'])} points."]
    if report["hidden_points_held_back"] > 0:
        held_back = points(report["hidden_points_held_back"])
        lines.append(f"Hidden tests worth {held_back} more points were not run here.")
    for error in report["errors"]:
        lines += ["", f"Problem with the submission ({error['kind']}): {clean(error['message'])}"]
    blocked = blocked_summary(report)
    if blocked is not None:
        lines.append(f"{blocked.name}: fix it first.")
    causes = [cause for cause in root_causes(report, gradescope=True) if not cause.hidden]
    if causes:
        lines += ["", "What to fix, in this order (details in the tests numbered 0.N):"]
        lines += [f"{n}. {cause_line(cause)}" for n, cause in enumerate(causes, start=1)]
    return "\n".join(lines)
