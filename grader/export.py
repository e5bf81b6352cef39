"""Render a native report for Gradescope, GitHub Classroom, JUnit consumers and Markdown.

Each renderer is a pure function of a schema-valid report. Only the native JSON and Gradescope
(which gates visibility itself) carry the feedback of hidden tests; the other formats end up in
logs and summaries that students can read, so they show a hidden test's outcome but not why.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

__all__ = ["classroom", "gradescope", "junit_xml", "markdown"]

_HIDDEN_FEEDBACK = "This is a hidden test: its details are withheld."

# Gradescope knows only "passed" and "failed"; GitHub Classroom's reporter knows pass/fail/error.
_CLASSROOM_STATUS = {
    "passed": "pass",
    "failed": "fail",
    "error": "error",
    "timeout": "error",
    "skipped": "fail",
}
# The reporter reads the result from one environment variable; Linux caps each at 128 KiB.
_CLASSROOM_MAX_BYTES = 100_000
_CLASSROOM_MESSAGE_LIMITS = (None, 2000, 300, 0)
_JUNIT_OUTCOME = {"failed": "failure", "error": "error", "timeout": "error", "skipped": "skipped"}
_JUNIT_COUNTS = {"failure": "failures", "error": "errors", "skipped": "skipped"}
# Characters XML 1.0 forbids even escaped, which also garble Markdown; student output has them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def gradescope(report: dict[str, Any]) -> dict[str, Any]:
    """Gradescope's results.json: hidden tests show once grades are published; extra credit adds."""
    tests = []
    for i, section in enumerate(report["sections"], start=1):
        extra = section["extra_credit"]
        for j, test in enumerate(section["tests"], start=1):
            status, hidden = test["status"], test["visibility"] == "hidden"
            # Gradescope shows only passed or failed, so the output names the other statuses.
            prefix = "" if status in ("passed", "failed") else f"[{status}] "
            tags = [section["id"]] + (["extra credit"] if extra else [])
            tags += [f"task {test['task']}"] if test["task"] is not None else []
            tests.append(
                {
                    "score": test["score"],
                    "max_score": test["max_score"],
                    "status": "passed" if status == "passed" else "failed",
                    "name": test["name"] + (" (extra credit)" if extra else ""),
                    "name_format": "text",
                    "number": f"{i}.{j}",
                    "output": prefix + test["feedback"],
                    "output_format": "text",
                    "tags": tags,
                    "visibility": "after_published" if hidden else "visible",
                    "extra_data": {
                        "id": test["id"],
                        "section": section["id"],
                        "status": status,
                        "task": test["task"],
                    },
                }
            )
    return {
        # Given explicitly, this overrides Gradescope's own sum of the test scores.
        "score": report["score"] + _extra_credit_score(report),
        "execution_time": round(report["duration_s"]),
        "output": _gradescope_summary(report),
        "output_format": "text",
        "visibility": "visible",
        # The grader's own log may name hidden tests; keep it for instructors.
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def classroom(report: dict[str, Any]) -> tuple[str, str]:
    """The base64 result for GitHub Classroom's grading reporter, and the matching Points line."""
    for limit in _CLASSROOM_MESSAGE_LIMITS:
        tests = [
            {
                "name": _shown_name(section, test),
                "status": _CLASSROOM_STATUS[test["status"]],
                "message": _truncated(_shown_feedback(test), limit),
                "test_code": "",
                "filename": "",
                # The reporter prints "- line N" for any line_no other than 0.
                "line_no": 0,
                "duration": round(test["duration_s"] * 1000),
                "score": test["score"],
            }
            for section, test in _tests(report)
        ]
        payload = {
            "version": 1,
            "status": _classroom_status(report),
            "max_score": report["max_score"],
            "tests": tests,
        }
        encoded = base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")
        if len(encoded) <= _CLASSROOM_MAX_BYTES:
            break
    score = report["score"] + _extra_credit_score(report)
    return encoded, f"Points {_points(score)}/{_points(report['max_score'])}"


def junit_xml(report: dict[str, Any]) -> str:
    """JUnit XML: a testsuite per section, plus one for the report's errors when there are any."""
    root = ET.Element("testsuites", name="scratchgrad")
    for section in report["sections"]:
        suite = ET.SubElement(root, "testsuite", name=_clean(section["id"]))
        for test in section["tests"]:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_clean(section["id"]),
                name=_clean(test["id"]),
                time=_seconds(test["duration_s"]),
            )
            outcome = _JUNIT_OUTCOME.get(test["status"])
            if outcome is not None:
                message = _clean(_shown_feedback(test))
                ET.SubElement(case, outcome, type=test["status"], message=message)
        _count_outcomes(suite, report["started_at"])
    if report["errors"]:
        suite = ET.SubElement(root, "testsuite", name="errors")
        for error in report["errors"]:
            case = ET.SubElement(
                suite, "testcase", classname="errors", name=_clean(error["kind"]), time=_seconds(0)
            )
            ET.SubElement(
                case, "error", type=_clean(error["kind"]), message=_clean(error["message"])
            )
        _count_outcomes(suite, report["started_at"])
    suites = root.findall("testsuite")
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in suites)))
    root.set("time", _seconds(report["duration_s"]))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def markdown(report: dict[str, Any]) -> str:
    """A Markdown summary for $GITHUB_STEP_SUMMARY: score, sections, failures and errors."""
    lines = [f"## scratchgrad: {_points(report['score'])} / {_points(report['max_score'])} points"]
    if report["sections"]:
        lines += ["", "| Section | Score | Max |", "| --- | ---: | ---: |"]
        for section in report["sections"]:
            title = _cell(section["title"]) + (" (extra credit)" if section["extra_credit"] else "")
            lines.append(
                f"| {title} | {_points(section['score'])} | {_points(section['max_score'])} |"
            )
    extra = [section for section in report["sections"] if section["extra_credit"]]
    if extra:
        earned = _points(sum(section["score"] for section in extra))
        available = _points(sum(section["max_score"] for section in extra))
        lines += ["", f"Extra credit: {earned} / {available} points, on top of the score above."]
    if report["hidden_points_held_back"] > 0:
        held_back = _points(report["hidden_points_held_back"])
        lines += ["", f"Hidden tests worth {held_back} points were not run here."]
    if report["errors"]:
        lines += ["", "### Errors", ""]
        for error in report["errors"]:
            lines.append(f"- **{_cell(error['kind'])}**: {_cell(error['message'])}")
    failing = [(section, test) for section, test in _tests(report) if test["status"] != "passed"]
    if failing:
        lines += ["", "### Tests not passed", ""]
        lines += ["| Section | Test | Status | Feedback |", "| --- | --- | --- | --- |"]
        for section, test in failing:
            name = _cell(_shown_name(section, test))
            if test["visibility"] == "visible":
                name += f"<br><code>{_cell(test['id'])}</code>"
            feedback = _cell(_shown_feedback(test))
            lines.append(f"| {_cell(section['title'])} | {name} | {test['status']} | {feedback} |")
    return "\n".join(lines) + "\n"


def _tests(report: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for section in report["sections"]:
        for test in section["tests"]:
            yield section, test


def _extra_credit_score(report: dict[str, Any]) -> float:
    """Extra credit earned: Gradescope and GitHub Classroom add it to the score, past the max."""
    return sum(section["score"] for section in report["sections"] if section["extra_credit"])


def _ratio(tests: list[dict[str, Any]]) -> str:
    score = sum(test["score"] for test in tests)
    return f"{_points(score)}/{_points(sum(test['max_score'] for test in tests))}"


def _gradescope_summary(report: dict[str, Any]) -> str:
    """Totals a student may see before grades are published: hidden tests are only counted."""
    core = [test for section, test in _tests(report) if not section["extra_credit"]]
    extra = [test for section, test in _tests(report) if section["extra_credit"]]
    hidden = [test for test in core + extra if test["visibility"] == "hidden"]
    if hidden:
        core = [test for test in core if test["visibility"] == "visible"]
        extra = [test for test in extra if test["visibility"] == "visible"]
        hidden_points = _points(sum(test["max_score"] for test in hidden))
        lines = [
            f"Visible tests: {_ratio(core)} points.",
            f"{len(hidden)} hidden tests worth {hidden_points} points are graded too; "
            "their results appear when grades are published.",
        ]
    else:
        lines = [f"Score: {_points(report['score'])}/{_points(report['max_score'])} points."]
    if extra:
        lines.append(f"Extra credit: {_ratio(extra)} points, added to your score.")
    if report["hidden_points_held_back"] > 0:
        held_back = _points(report["hidden_points_held_back"])
        lines.append(f"Hidden tests worth {held_back} points were not run here.")
    if report["errors"]:
        lines += ["", "Problems:"] + [f"- {error['message']}" for error in report["errors"]]
    return "\n".join(lines)


def _classroom_status(report: dict[str, Any]) -> str:
    """error if the grader reported errors, fail if a core test did not pass, else pass."""
    if report["errors"]:
        return "error"
    core = (test for section, test in _tests(report) if not section["extra_credit"])
    return "pass" if all(test["status"] == "passed" for test in core) else "fail"


def _shown_name(section: dict[str, Any], test: dict[str, Any]) -> str:
    if test["visibility"] == "hidden":
        return f"Hidden test in {section['title']}"
    return str(test["name"])


def _truncated(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[:limit] + "... (cut short; the full feedback is in the JSON report)"


def _shown_feedback(test: dict[str, Any]) -> str:
    if test["visibility"] == "hidden" and test["feedback"]:
        return _HIDDEN_FEEDBACK
    return str(test["feedback"])


def _count_outcomes(suite: ET.Element, timestamp: str) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for outcome, attribute in _JUNIT_COUNTS.items():
        suite.set(attribute, str(sum(1 for case in cases if case.find(outcome) is not None)))
    suite.set("time", _seconds(sum(float(case.get("time", "0")) for case in cases)))
    suite.set("timestamp", timestamp)


def _points(value: float) -> str:
    """7.0 -> '7', 7.25 -> '7.25', 1/3 -> '0.33': plain decimals, never exponents."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _clean(text: str) -> str:
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no column breaks, no line breaks."""
    text = _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<br>".join(text.replace("|", "\\|").splitlines())
