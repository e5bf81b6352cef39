"""What every format shows first: the submission's problem, the cases it blocks, the root causes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from grader.export.text import points

HIDDEN_FEEDBACK = "This is a hidden test: its details are withheld."
SUBMISSION = "submission"
BLOCKED_MESSAGE = "They need the submission to load: fix the problem above first."


@dataclass(frozen=True)
class Cause:
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
class Blocked:
    """The cases blocked by a problem with the submission as a whole, as one line."""

    count: int
    score: float
    max_score: float
    duration_s: float

    @property
    def name(self) -> str:
        return f"{self.count} {'test' if self.count == 1 else 'tests'} blocked by the problem above"


def all_tests(
    report: dict[str, Any],
) -> Iterator[tuple[int, dict[str, Any], int, dict[str, Any]]]:
    """(section number, section, test number, test), numbered from 1 in report order."""
    for i, section in enumerate(report["sections"], start=1):
        for j, test in enumerate(section["tests"], start=1):
            yield i, section, j, test


def listed(report: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any], int, dict[str, Any]]]:
    """The tests shown one by one: all but those a problem of the whole submission blocked."""
    return (entry for entry in all_tests(report) if entry[3]["blocked_by"] != SUBMISSION)


def blocked_summary(report: dict[str, Any]) -> Blocked | None:
    tests = [t for *_, t in all_tests(report) if t["blocked_by"] == SUBMISSION]
    if not tests:
        return None
    return Blocked(
        count=len(tests),
        score=sum(t["score"] for t in tests),
        max_score=sum(t["max_score"] for t in tests),
        duration_s=sum(t["duration_s"] for t in tests),
    )


def root_causes(report: dict[str, Any], gradescope: bool) -> list[Cause]:
    """The root causes in the order to fix them. The submission's own root cause repeats its
    `errors` entry, shown already. Outside Gradescope a hidden case's feedback is withheld. On
    Gradescope a cause whose cases are all hidden is shown after grades are published; one
    shown before tells only what its visible cases show."""
    tests = {t["id"]: t for *_, t in all_tests(report)}
    causes = []
    for cause in report["root_causes"]:
        if cause["task"] == SUBMISSION and report["errors"]:
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
            message = next(shown, HIDDEN_FEEDBACK)
        if cause["task"] == SUBMISSION:
            heading = cause["title"]
        else:
            heading = f"Task {cause['task']}, {cause['title']}"
        causes.append(Cause(heading, points_lost, message, _counts(len(own), blocks), hidden))
    return causes


def _visible(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in tests if t["visibility"] == "visible"]


def cause_line(cause: Cause) -> str:
    """ "Task 2.4, the backward rule of Value.tanh (-3 points; 3 of its cases fail)"."""
    counts = f"; {cause.counts}" if cause.counts else ""
    return f"{cause.heading} (-{points(cause.points_lost)} points{counts})"


def _counts(own: int, blocks: list[dict[str, Any]]) -> str:
    parts = []
    if own > 1:
        parts.append(f"{own} of its cases fail")
    if blocks:
        sections = sorted({t["id"].split("::", 1)[0] for t in blocks})
        parts.append(f"it also blocks {len(blocks)} cases in {', '.join(sections)}")
    return "; ".join(parts)


def kept(test: dict[str, Any]) -> bool:
    """A blocked case that kept its points: its own task was shown right another way."""
    return test["score"] >= test["max_score"]


def status_prefix(test: dict[str, Any]) -> str:
    """What Gradescope's passed/failed and JUnit's outcomes cannot say, for the output."""
    status = test["status"]
    if status == "blocked":
        blocker = test["blocked_by"]
        name = "the problem above" if blocker in (None, SUBMISSION) else f"Task {blocker}"
        return f"[blocked by {name}{', points kept' if kept(test) else ''}] "
    return "" if status in ("passed", "failed") else f"[{status}] "


def status_label(test: dict[str, Any]) -> str:
    return status_prefix(test).strip()[1:-1] or test["status"]


def shown_name(section: dict[str, Any], test: dict[str, Any]) -> str:
    if test["visibility"] == "hidden":
        return f"Hidden test in {section['title']}"
    return str(test["name"])


def shown_feedback(test: dict[str, Any]) -> str:
    if test["visibility"] == "hidden" and test["feedback"]:
        return HIDDEN_FEEDBACK
    return str(test["feedback"])
