"""A Markdown summary for $GITHUB_STEP_SUMMARY or a comment, with student text in code spans."""

from __future__ import annotations

import re
from typing import Any

from grader.export.causes import (
    BLOCKED_MESSAGE,
    blocked_summary,
    cause_line,
    listed,
    root_causes,
    shown_feedback,
    shown_name,
    status_label,
)
from grader.export.text import capped, clean, points, ratio, shown_score

_CELL_CHARS = 400
_CAUSE_CHARS = 1000
_MAX_CHARS = 60_000
"""Below GitHub's 65,536-character limit on a comment (a step summary may hold 1 MiB)."""
_PUNCTUATION = re.compile(r"([!#$&()*+\-.:<>@\[\\\]^_`{|}~])")
"""Marks that can mean something in GFM; `,;'"/?=%` never do, and stay readable."""


def markdown(report: dict[str, Any]) -> str:
    """A Markdown summary for $GITHUB_STEP_SUMMARY or a comment: score, what to fix, sections,
    the tests not passed. Student text only ever appears inside code spans."""
    score = ratio(report["score"], report["max_score"])
    lines = [f"## scratchgrad: {score} points"]
    for error in report["errors"]:
        lines += [
            "",
            f"**Problem with the submission** ({_md(error['kind'])}): "
            + _code(capped(error["message"], _CAUSE_CHARS)),
        ]
    blocked = blocked_summary(report)
    if blocked is not None:
        lines += ["", f"{blocked.name}: fix it first."]
    causes = root_causes(report, gradescope=False)
    if causes:
        lines += ["", "### What to fix, in this order", ""]
        for number, cause in enumerate(causes, start=1):
            message = _code(capped(cause.message, _CAUSE_CHARS))
            lines.append(f"{number}. **{_md(cause_line(cause))}**: {message}")
    if report["sections"]:
        lines += ["", "| Section | Score | Max |", "| --- | ---: | ---: |"]
        for section in report["sections"]:
            earned = shown_score(section["score"], section["max_score"])
            lines.append(f"| {_md(section['title'])} | {earned} | {points(section['max_score'])} |")
    if report["hidden_points_held_back"] > 0:
        held_back = points(report["hidden_points_held_back"])
        lines += [
            "",
            f"Hidden tests worth {held_back} more points run only in the course's autograder.",
        ]
    rows = (
        []
        if blocked is None
        else [f"| All | {_md(blocked.name)} | blocked | {_md(BLOCKED_MESSAGE)} |"]
    )
    for _, section, _, test in listed(report):
        if test["status"] == "passed":
            continue
        name = _md(shown_name(section, test))
        if test["visibility"] == "visible":
            name += "<br>" + _code(test["id"], table=True)
        feedback = _code(capped(shown_feedback(test), _CELL_CHARS), table=True)
        status = _md(status_label(test))
        rows.append(f"| {_md(section['title'])} | {name} | {status} | {feedback} |")
    if rows:
        lines += ["", "### Tests not passed", ""]
        lines += ["| Section | Test | Status | Feedback |", "| --- | --- | --- | --- |"]
        budget = _MAX_CHARS - sum(len(line) + 1 for line in lines) - 200
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


def _md(text: str) -> str:
    """Grader text as Markdown that means only itself: every ASCII punctuation mark escaped
    (so no emphasis, link, HTML, autolink or table break), on one line."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(clean(text).split()))


def _code(text: str, table: bool = False) -> str:
    """Student text as a code span: nothing inside is a link, HTML or mention, and `<lambda>`
    shows as typed. The fence is longer than any run of backticks inside; in a table, a pipe
    is escaped (GFM unescapes it before it reads the span)."""
    text = " ".join(clean(text).split("\n")).replace("\r", " ")
    if not text.strip():
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    if table:
        text = text.replace("|", "\\|")
    return f"{fence} {text} {fence}"
