"""JUnit XML: a "what to fix" suite first, then a testsuite per section."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from grader.export.causes import (
    BLOCKED_MESSAGE,
    SUBMISSION,
    blocked_summary,
    cause_line,
    kept,
    root_causes,
    shown_feedback,
    status_prefix,
)
from grader.export.text import NAME_CHARS, capped, clean

_MESSAGE_CHARS = 4000
_OUTCOME = {"failed": "failure", "error": "error", "timeout": "error", "skipped": "skipped"}
_COUNTS = {"failure": "failures", "error": "errors", "skipped": "skipped"}
_FIX_SUITE = "what to fix"


def junit_xml(report: dict[str, Any]) -> str:
    """JUnit XML: first a "what to fix" suite (the submission's problems, the cases they block
    as one case, the root causes), then a testsuite per section."""
    root = ET.Element("testsuites", name="scratchgrad")
    fixes = _fix_cases(report)
    if fixes:
        suite = ET.SubElement(root, "testsuite", name=_FIX_SUITE)
        for name, outcome, kind, message, seconds in fixes:
            case = _subelement(suite, "testcase", classname=_FIX_SUITE, name=name, time=seconds)
            _subelement(case, outcome, type=kind, message=message)
        _count_outcomes(suite, report["started_at"])
    for section in report["sections"]:
        suite = ET.SubElement(root, "testsuite", name=clean(section["id"]))
        hidden_number = 0
        for test in section["tests"]:
            if test["blocked_by"] == SUBMISSION:
                continue
            if test["visibility"] == "hidden":
                hidden_number += 1
                name = f"Hidden test {hidden_number} in {section['title']}"
            else:
                name = str(test["name"])
            case = _subelement(
                suite,
                "testcase",
                classname=section["id"],
                name=capped(name, NAME_CHARS),
                # junit-10.xsd allows only name, classname, time and group on a testcase.
                group=test["id"],
                time=_seconds(test["duration_s"]),
            )
            child, kind = _outcome(test)
            if child is not None:
                message = status_prefix(test) + shown_feedback(test)
                _subelement(case, child, type=kind, message=message)
        _count_outcomes(suite, report["started_at"])
    suites = root.findall("testsuite")
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in suites)))
    root.set("time", _seconds(report["duration_s"]))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _fix_cases(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(name, outcome, type, message, time) of each case of the "what to fix" suite."""
    cases = [
        (
            f"Problem with the submission: {error['kind']}",
            "error",
            error["kind"],
            error["message"],
            _seconds(0),
        )
        for error in report["errors"]
    ]
    blocked = blocked_summary(report)
    if blocked is not None:
        cases.append(
            (blocked.name, "skipped", "blocked", BLOCKED_MESSAGE, _seconds(blocked.duration_s))
        )
    for number, cause in enumerate(root_causes(report, gradescope=False), start=1):
        name = f"{number}. {cause_line(cause)}"
        cases.append((name, "failure", "root cause", cause.message, _seconds(0)))
    return cases


def _outcome(test: dict[str, Any]) -> tuple[str | None, str]:
    """A blocked case that kept its points is skipped (its own task is not at fault); one that
    lost them is a failure of type "blocked"."""
    if test["status"] == "blocked":
        return ("skipped" if kept(test) else "failure"), "blocked"
    return _OUTCOME.get(test["status"]), test["status"]


def _subelement(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    capped_attributes = {k: capped(v, _MESSAGE_CHARS) for k, v in attributes.items()}
    return ET.SubElement(parent, tag, capped_attributes)


def _count_outcomes(suite: ET.Element, timestamp: str) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for outcome, attribute in _COUNTS.items():
        suite.set(attribute, str(sum(1 for case in cases if case.find(outcome) is not None)))
    suite.set("time", _seconds(sum(float(case.get("time", "0")) for case in cases)))
    suite.set("timestamp", clean(timestamp))


def _seconds(value: float) -> str:
    return f"{value:.3f}"
