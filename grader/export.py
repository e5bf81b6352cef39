"""Render a native report for Gradescope, GitHub Classroom, JUnit consumers and Markdown.

Each renderer is a pure function of a schema-valid report (schema v2), and each starts where the
student should: a problem with the submission as a whole, once; then the root causes, one per
wrong task, in the order to fix them. The cases such a problem blocks become one line; the native
JSON keeps every case. Only the native JSON and Gradescope (which gates visibility itself) carry
the feedback of hidden tests; the other formats end up in logs and summaries that students can
read, so they show a hidden test's outcome but not why. Student text is made inert in each
format (docs/ci.md says how), and every string is capped.
"""

from __future__ import annotations

import base64
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = ["classroom", "gradescope", "junit_xml", "markdown"]

_HIDDEN_FEEDBACK = "This is a hidden test: its details are withheld."
_SUBMISSION = "submission"
# Characters XML 1.0 forbids even escaped (which also garble terminals and Markdown), and the
# bidirectional controls that make text read differently from what it is.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_NAME_CHARS = 300
_MESSAGE_CHARS = 4000
# The reporter reads the result from one environment variable; Linux caps each at 128 KiB.
_CLASSROOM_MAX_BYTES = 100_000
_CLASSROOM_MESSAGE_LIMITS = (1000, 300, 80, 0)
_CLASSROOM_QUANTUM = Fraction(1, 1024)
"""Classroom scores are multiples of this: the reporter's float sum is then exact in any order."""
_GRADESCOPE_OUTPUT_CHARS = 10_000
_MARKDOWN_CELL_CHARS = 400
_MARKDOWN_CAUSE_CHARS = 1000
_MARKDOWN_MAX_CHARS = 60_000
"""Below GitHub's 65,536-character limit on a comment (a step summary may hold 1 MiB)."""
_JUNIT_OUTCOME = {"failed": "failure", "error": "error", "timeout": "error", "skipped": "skipped"}
_JUNIT_COUNTS = {"failure": "failures", "error": "errors", "skipped": "skipped"}
_FIX_SUITE = "what to fix"


@dataclass(frozen=True)
class _Cause:
    """One entry of "What to fix" as a format shows it."""

    heading: str
    """"Task 2.4, the backward rule of Value.tanh", or the problem itself."""
    points_lost: float
    message: str
    """The first failing case's feedback, or the withheld text."""
    counts: str
    """"3 of its cases fail; it also blocks 4 cases in nn, training", or ""."""
    hidden: bool
    """Every case it names is a hidden test."""


@dataclass(frozen=True)
class _Blocked:
    """The cases blocked by a problem with the submission as a whole, as one line."""

    count: int
    score: float
    max_score: float
    duration_s: float

    @property
    def name(self) -> str:
        return f"{self.count} {'test' if self.count == 1 else 'tests'} blocked by the problem above"


_BLOCKED_MESSAGE = "They need the submission to load: fix the problem above first."


def gradescope(report: dict[str, Any]) -> dict[str, Any]:
    """Gradescope's results.json: the top-level score is the grade; hidden tests show once
    grades are published; root causes come first, numbered 0.N."""
    entries: list[dict[str, Any]] = []
    blocked = _blocked(report)
    if blocked is not None:
        entries.append(
            {
                "score": blocked.score,
                "max_score": blocked.max_score,
                "status": "failed",
                "name": blocked.name,
                "name_format": "text",
                "number": "0.1",
                "output": _BLOCKED_MESSAGE,
                "output_format": "text",
                "tags": ["blocked"],
                "visibility": "visible",
                "extra_data": {"status": "blocked", "blocked_by": _SUBMISSION},
            }
        )
    for number, cause in enumerate(_causes(report, gradescope=True), start=1):
        entries.append(
            {
                "status": "failed",
                "name": _capped(f"What to fix {number}: {_cause_line(cause)}", _NAME_CHARS),
                "name_format": "text",
                "number": f"0.{len(entries) + 1}",
                "output": _capped(cause.message, _GRADESCOPE_OUTPUT_CHARS),
                "output_format": "text",
                "tags": ["what to fix"],
                "visibility": "after_published" if cause.hidden else "visible",
                "extra_data": {},
            }
        )
    for i, section, j, test in _listed(report):
        status = test["status"]
        passed = status == "passed" or (status == "blocked" and _kept(test))
        tags = [section["id"]] + ([f"task {test['task']}"] if test["task"] is not None else [])
        entries.append(
            {
                "score": test["score"],
                "max_score": test["max_score"],
                "status": "passed" if passed else "failed",
                "name": _capped(test["name"], _NAME_CHARS),
                "name_format": "text",
                "number": f"{i}.{j}",
                "output": _capped(
                    _status_prefix(test) + test["feedback"], _GRADESCOPE_OUTPUT_CHARS
                ),
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
        "output": _capped(_gradescope_summary(report), _GRADESCOPE_OUTPUT_CHARS),
        "output_format": "text",
        "visibility": "visible",
        # The grader's own log may name hidden tests; keep it for instructors.
        "stdout_visibility": "hidden",
        "tests": entries,
    }


def classroom(report: dict[str, Any]) -> tuple[str, str]:
    """The base64 result for GitHub Classroom's grading reporter, and the Points line that the
    reporter will print from it (it adds up the rows' scores as they come)."""
    rows = _classroom_rows(report)
    scores = _exact_shares([row.pop("_points") for row in rows], report["score"])
    for row, score in zip(rows, scores, strict=True):
        row["score"] = score
    for limit in _CLASSROOM_MESSAGE_LIMITS:
        tests = [row | {"message": _capped(row["message"], limit)} for row in rows]
        payload = {
            "version": 1,
            "status": _classroom_status(report, rows),
            "max_score": report["max_score"],
            "tests": tests,
        }
        encoded = base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")
        if len(encoded) <= _CLASSROOM_MAX_BYTES:
            break
    total = sum(scores)
    return encoded, f"Points {_js_number(total)}/{_js_number(report['max_score'])}"


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
        suite = ET.SubElement(root, "testsuite", name=_clean(section["id"]))
        hidden_number = 0
        for test in section["tests"]:
            if test["blocked_by"] == _SUBMISSION:
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
                name=_capped(name, _NAME_CHARS),
                # junit-10.xsd allows only name, classname, time and group on a testcase.
                group=test["id"],
                time=_seconds(test["duration_s"]),
            )
            child, kind = _junit_outcome(test)
            if child is not None:
                message = _status_prefix(test) + _shown_feedback(test)
                _subelement(case, child, type=kind, message=message)
        _count_outcomes(suite, report["started_at"])
    suites = root.findall("testsuite")
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in suites)))
    root.set("time", _seconds(report["duration_s"]))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def markdown(report: dict[str, Any]) -> str:
    """A Markdown summary for $GITHUB_STEP_SUMMARY or a comment: score, what to fix, sections,
    the tests not passed. Student text only ever appears inside code spans."""
    score = _ratio(report["score"], report["max_score"])
    lines = [f"## scratchgrad: {score} points"]
    for error in report["errors"]:
        lines += [
            "",
            f"**Problem with the submission** ({_md(error['kind'])}): "
            + _code(_capped(error["message"], _MARKDOWN_CAUSE_CHARS)),
        ]
    blocked = _blocked(report)
    if blocked is not None:
        lines += ["", f"{blocked.name}: fix it first."]
    causes = _causes(report, gradescope=False)
    if causes:
        lines += ["", "### What to fix, in this order", ""]
        for number, cause in enumerate(causes, start=1):
            message = _code(_capped(cause.message, _MARKDOWN_CAUSE_CHARS))
            lines.append(f"{number}. **{_md(_cause_line(cause))}**: {message}")
    if report["sections"]:
        lines += ["", "| Section | Score | Max |", "| --- | ---: | ---: |"]
        for section in report["sections"]:
            earned = _shown_score(section["score"], section["max_score"])
            lines.append(
                f"| {_md(section['title'])} | {earned} | {_points(section['max_score'])} |"
            )
    if report["hidden_points_held_back"] > 0:
        held_back = _points(report["hidden_points_held_back"])
        lines += [
            "",
            f"Hidden tests worth {held_back} more points run only in the course's autograder.",
        ]
    rows = (
        []
        if blocked is None
        else [f"| All | {_md(blocked.name)} | blocked | {_md(_BLOCKED_MESSAGE)} |"]
    )
    for _, section, _, test in _listed(report):
        if test["status"] == "passed":
            continue
        name = _md(_shown_name(section, test))
        if test["visibility"] == "visible":
            name += "<br>" + _code(test["id"], table=True)
        feedback = _code(_capped(_shown_feedback(test), _MARKDOWN_CELL_CHARS), table=True)
        status = _md(_status_label(test))
        rows.append(f"| {_md(section['title'])} | {name} | {status} | {feedback} |")
    if rows:
        lines += ["", "### Tests not passed", ""]
        lines += ["| Section | Test | Status | Feedback |", "| --- | --- | --- | --- |"]
        budget = _MARKDOWN_MAX_CHARS - sum(len(line) + 1 for line in lines) - 200
        shown = 0
        for row in rows:
            budget -= len(row) + 1
            if budget < 0:
                break
            lines.append(row)
            shown += 1
        if shown < len(rows):
            lines += ["", f"... and {len(rows) - shown} more: the JSON report lists every case."]
    return "\n".join(lines) + "\n"


# ---- what every format shows first ----------------------------------------------------------


def _tests(report: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any], int, dict[str, Any]]]:
    """(section number, section, test number, test), numbered from 1 in report order."""
    for i, section in enumerate(report["sections"], start=1):
        for j, test in enumerate(section["tests"], start=1):
            yield i, section, j, test


def _listed(report: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any], int, dict[str, Any]]]:
    """The tests shown one by one: all but those a problem of the whole submission blocked."""
    return (entry for entry in _tests(report) if entry[3]["blocked_by"] != _SUBMISSION)


def _blocked(report: dict[str, Any]) -> _Blocked | None:
    tests = [t for *_, t in _tests(report) if t["blocked_by"] == _SUBMISSION]
    if not tests:
        return None
    return _Blocked(
        count=len(tests),
        score=sum(t["score"] for t in tests),
        max_score=sum(t["max_score"] for t in tests),
        duration_s=sum(t["duration_s"] for t in tests),
    )


def _causes(report: dict[str, Any], gradescope: bool) -> list[_Cause]:
    """The root causes in the order to fix them. The submission's own root cause repeats its
    `errors` entry, shown already. Outside Gradescope a hidden case's feedback is withheld. On
    Gradescope a cause whose cases are all hidden is shown after grades are published; one
    shown before tells only what its visible cases show."""
    tests = {t["id"]: t for *_, t in _tests(report)}
    causes = []
    for cause in report["root_causes"]:
        if cause["task"] == _SUBMISSION and report["errors"]:
            continue
        own = [tests[c] for c in cause["cases"] if c in tests]
        blocks = [tests[c] for c in cause["blocks"] if c in tests]
        first = tests.get(cause["test"])
        hidden = bool(own + blocks) and not _visible(own + blocks)
        message, points_lost = cause["message"], cause["points_lost"]
        if gradescope and not hidden and len(_visible(own + blocks)) < len(own + blocks):
            own, blocks = _visible(own), _visible(blocks)
            points_lost = sum(t["max_score"] - t["score"] for t in own + blocks)
        if first is not None and first["visibility"] == "hidden" and not (gradescope and hidden):
            shown = (t["feedback"] for t in _visible(own + blocks) if t["feedback"])
            message = next(shown, _HIDDEN_FEEDBACK)
        if cause["task"] == _SUBMISSION:
            heading = cause["title"]
        else:
            heading = f"Task {cause['task']}, {cause['title']}"
        causes.append(_Cause(heading, points_lost, message, _counts(len(own), blocks), hidden))
    return causes


def _visible(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in tests if t["visibility"] == "visible"]


def _cause_line(cause: _Cause) -> str:
    """ "Task 2.4, the backward rule of Value.tanh (-3 points; 3 of its cases fail)"."""
    counts = f"; {cause.counts}" if cause.counts else ""
    return f"{cause.heading} (-{_points(cause.points_lost)} points{counts})"


def _counts(own: int, blocks: list[dict[str, Any]]) -> str:
    parts = []
    if own > 1:
        parts.append(f"{own} of its cases fail")
    if blocks:
        sections = sorted({t["id"].split("::", 1)[0] for t in blocks})
        parts.append(f"it also blocks {len(blocks)} cases in {', '.join(sections)}")
    return "; ".join(parts)


def _kept(test: dict[str, Any]) -> bool:
    """A blocked case that kept its points: its own task was shown right another way."""
    return test["score"] >= test["max_score"]


def _status_prefix(test: dict[str, Any]) -> str:
    """What Gradescope's passed/failed and JUnit's outcomes cannot say, for the output."""
    status = test["status"]
    if status == "blocked":
        blocker = test["blocked_by"]
        name = "the problem above" if blocker in (None, _SUBMISSION) else f"Task {blocker}"
        return f"[blocked by {name}{', points kept' if _kept(test) else ''}] "
    return "" if status in ("passed", "failed") else f"[{status}] "


def _status_label(test: dict[str, Any]) -> str:
    return _status_prefix(test).strip()[1:-1] or test["status"]


def _shown_name(section: dict[str, Any], test: dict[str, Any]) -> str:
    if test["visibility"] == "hidden":
        return f"Hidden test in {section['title']}"
    return str(test["name"])


def _shown_feedback(test: dict[str, Any]) -> str:
    if test["visibility"] == "hidden" and test["feedback"]:
        return _HIDDEN_FEEDBACK
    return str(test["feedback"])


# ---- Gradescope -----------------------------------------------------------------------------


def _gradescope_summary(report: dict[str, Any]) -> str:
    """What a student may see before grades are published: hidden tests are only counted."""
    tests = [t for *_, t in _tests(report)]
    hidden = [t for t in tests if t["visibility"] == "hidden"]
    if hidden:
        visible = [t for t in tests if t["visibility"] == "visible"]
        lines = [
            "Visible tests: "
            + _ratio(sum(t["score"] for t in visible), sum(t["max_score"] for t in visible))
            + " points.",
            f"{len(hidden)} hidden tests worth {_points(sum(t['max_score'] for t in hidden))} "
            "points are graded too; their results appear when grades are published.",
        ]
    else:
        lines = [f"Score: {_ratio(report['score'], report['max_score'])} points."]
    if report["hidden_points_held_back"] > 0:
        held_back = _points(report["hidden_points_held_back"])
        lines.append(f"Hidden tests worth {held_back} more points were not run here.")
    for error in report["errors"]:
        lines += ["", f"Problem with the submission ({error['kind']}): {_clean(error['message'])}"]
    blocked = _blocked(report)
    if blocked is not None:
        lines.append(f"{blocked.name}: fix it first.")
    causes = [cause for cause in _causes(report, gradescope=True) if not cause.hidden]
    if causes:
        lines += ["", "What to fix, in this order (details in the tests numbered 0.N):"]
        lines += [f"{n}. {_cause_line(cause)}" for n, cause in enumerate(causes, start=1)]
    return "\n".join(lines)


# ---- GitHub Classroom -----------------------------------------------------------------------


def _classroom_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The reporter prints each row as it comes: "✅ name", "❌ name", or, for an error,
    "Error: message". Every field is one line: the log runs workflow commands."""

    def row(name: str, status: str, message: str, points: float, seconds: float) -> dict:
        return {
            "name": _one_line(_capped(name, _NAME_CHARS)),
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
    blocked = _blocked(report)
    if blocked is not None:
        rows.append(row(blocked.name, "fail", _BLOCKED_MESSAGE, blocked.score, blocked.duration_s))
    for number, cause in enumerate(_causes(report, gradescope=False), start=1):
        name = f"What to fix {number}: {_cause_line(cause)}: {cause.message}"
        rows.append(row(name, "fail", cause.message, 0, 0))
    for _, section, _, test in _listed(report):
        status = {"passed": "pass", "failed": "fail", "skipped": "fail"}.get(
            test["status"], "error"
        )
        if test["status"] == "blocked":
            status = "pass" if _kept(test) else "fail"
        message = _status_prefix(test) + _shown_feedback(test)
        rows.append(
            row(_shown_name(section, test), status, message, test["score"], test["duration_s"])
        )
    return rows


def _classroom_status(report: dict[str, Any], rows: list[dict[str, Any]]) -> str:
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
    units = math.floor(Fraction(max(total, 0.0)) / _CLASSROOM_QUANTUM)
    shares, done, running = [], 0, Fraction(0)
    for weight in weights:
        running += weight
        upto = math.floor(units * running / whole)
        shares.append(float((upto - done) * _CLASSROOM_QUANTUM))
        done = upto
    return shares


def _js_number(value: float) -> str:
    """How JavaScript prints a number between 1e-6 and 1e16 (the reporter's `${x}`)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _one_line(text: str) -> str:
    """One line, and no legacy `##[command]` for the Actions log to obey."""
    return " ".join(_clean(text).split("\n")).replace("\r", " ").replace("##[", "#\u200b#[")


# ---- JUnit ----------------------------------------------------------------------------------


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
    blocked = _blocked(report)
    if blocked is not None:
        cases.append(
            (blocked.name, "skipped", "blocked", _BLOCKED_MESSAGE, _seconds(blocked.duration_s))
        )
    for number, cause in enumerate(_causes(report, gradescope=False), start=1):
        name = f"{number}. {_cause_line(cause)}"
        cases.append((name, "failure", "root cause", cause.message, _seconds(0)))
    return cases


def _junit_outcome(test: dict[str, Any]) -> tuple[str | None, str]:
    """A blocked case that kept its points is skipped (its own task is not at fault); one that
    lost them is a failure of type "blocked"."""
    if test["status"] == "blocked":
        return ("skipped" if _kept(test) else "failure"), "blocked"
    return _JUNIT_OUTCOME.get(test["status"]), test["status"]


def _subelement(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    capped = {k: _capped(v, _MESSAGE_CHARS) for k, v in attributes.items()}
    return ET.SubElement(parent, tag, capped)


def _count_outcomes(suite: ET.Element, timestamp: str) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for outcome, attribute in _JUNIT_COUNTS.items():
        suite.set(attribute, str(sum(1 for case in cases if case.find(outcome) is not None)))
    suite.set("time", _seconds(sum(float(case.get("time", "0")) for case in cases)))
    suite.set("timestamp", _clean(timestamp))


def _seconds(value: float) -> str:
    return f"{value:.3f}"


# ---- Markdown -------------------------------------------------------------------------------

_MD_PUNCTUATION = re.compile(r"([!#$&()*+\-.:<>@\[\\\]^_`{|}~])")
"""Marks that can mean something in GFM; `,;'"/?=%` never do, and stay readable."""


def _md(text: str) -> str:
    """Grader text as Markdown that means only itself: every ASCII punctuation mark escaped
    (so no emphasis, link, HTML, autolink or table break), on one line."""
    return _MD_PUNCTUATION.sub(r"\\\1", " ".join(_clean(text).split()))


def _code(text: str, table: bool = False) -> str:
    """Student text as a code span: nothing inside is a link, HTML or mention, and `<lambda>`
    shows as typed. The fence is longer than any run of backticks inside; in a table, a pipe
    is escaped (GFM unescapes it before it reads the span)."""
    text = " ".join(_clean(text).split("\n")).replace("\r", " ")
    if not text.strip():
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    if table:
        text = text.replace("|", "\\|")
    return f"{fence} {text} {fence}"


# ---- text and numbers -----------------------------------------------------------------------


def _clean(text: str) -> str:
    return _UNSAFE.sub("\N{REPLACEMENT CHARACTER}", str(text))


def _capped(text: str, limit: int) -> str:
    text = _clean(text)
    if len(text) <= limit:
        return text
    return text[:limit] + "... (cut short; the JSON report has it in full)"


def _points(value: float) -> str:
    """7.0 -> '7', 0.375 -> '0.375', 1/3 -> '0.333': plain decimals, never exponents."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _shown_score(score: float, max_score: float) -> str:
    """The score as `_points` shows it, but a score below the maximum never reads as it."""
    shown = _points(score)
    if score < max_score and shown == _points(max_score):
        shown = _points(math.floor(score * 1000) / 1000)
    return shown


def _ratio(score: float, max_score: float) -> str:
    return f"{_shown_score(score, max_score)} / {_points(max_score)}"
