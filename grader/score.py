"""Score: the plugin's results as case outcomes, then sections of points.

`outcomes` reads what each case found; grader/blame.py decides what it costs; `tally` groups
the charged cases into sections.
"""

from __future__ import annotations

from dataclasses import dataclass

SECTIONS = {
    "forward": "Forward pass of each op",
    "backward": "Backward rule of each op",
    "backprop": "backward() through whole graphs",
    "nn": "Neuron, Layer and MLP",
    "training": "Loss and training loop",
}
"""Section id -> title. A suite file test_<id>.py holds each section's tests."""


@dataclass(frozen=True)
class Outcome:
    """What one test case found, before blame."""

    id: str
    """section::test[case], stable across runs."""
    section: str
    name: str
    """What it checks, in words."""
    task: str | None
    """The exercise task it checks."""
    status: str
    """passed, failed, error, timeout or skipped."""
    points: float
    feedback: str
    visibility: str
    duration_s: float
    group: str
    """Cases that check the same thing (by default, one test function's cases)."""
    needs: frozenset[str]
    """Earlier tasks the check relies on."""
    gate: bool
    """A one-pass check: its task's points count only when it passes."""
    large: bool
    """A check of a large graph (one-pass checks, the 100,000-op chain)."""
    topology: bool
    """A check of backward()'s walk, which (if it failed) got a grad below the root wrong: a
    bug in backward() itself."""
    consistent: bool | None
    """After a failure: the student's own engine agrees with their code (checks.Case)."""
    own_forward: bool
    """A backward case whose op's forward is wrong, while its grads are the derivative of the
    student's own forward: charged in forward, not here."""
    raised: str | None
    """A task whose stub was hit ("3.1"), or "submission" when the submission as a whole
    could not run the check (import error, missing name)."""
    details: dict | None


@dataclass(frozen=True)
class CaseResult:
    """One test case's verdict and points, as the report shows it."""

    id: str
    """section::test[case], stable across runs."""
    name: str
    """What it checks, in words."""
    task: str | None
    """The exercise task it checks."""
    status: str
    """passed, failed, error, timeout, skipped or blocked."""
    score: float
    max_score: float
    feedback: str
    """Empty when passed."""
    visibility: str
    """visible or hidden."""
    duration_s: float
    blocked_by: str | None
    """The earlier task (or "submission") that made this case fail or not count."""
    details: dict | None
    """Data for the feedback page: the failing graph, model or loss curves."""


@dataclass(frozen=True)
class SectionResult:
    """A section's tests and points."""

    id: str
    title: str
    score: float
    max_score: float
    tests: tuple[CaseResult, ...]


def outcomes(results: list[dict]) -> list[Outcome]:
    """Each case of the plugin's results, in the order the suites ran them."""
    return [_outcome(test) for test in results]


def tally(cases: list[tuple[str, CaseResult]]) -> list[SectionResult]:
    """Group (section, case) pairs by section, in the fixed section order."""
    by_section: dict[str, list[CaseResult]] = {}
    for section, case in cases:
        by_section.setdefault(section, []).append(case)
    order = list(SECTIONS)
    return [
        SectionResult(
            id=section,
            title=SECTIONS.get(section, section),
            score=sum(t.score for t in tests),
            max_score=sum(t.max_score for t in tests),
            tests=tuple(tests),
        )
        for section, tests in sorted(
            by_section.items(),
            key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0]),
        )
    ]


def section_of(nodeid: str) -> str:
    """`.../test_backward.py::test_tanh[0.5]` -> `backward` (hidden_test_backward.py too)."""
    filename = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    stem = filename.removesuffix(".py")
    return stem.removeprefix("hidden_").removeprefix("test_")


def _outcome(test: dict) -> Outcome:
    meta = test.get("metadata") or {}
    section = section_of(test["nodeid"])
    duration = float(test.get("duration", 0.0))
    function = test["nodeid"].split("::", 1)[1]
    return Outcome(
        id=f"{section}::{function}",
        section=section,
        name=str(meta.get("name", function)),
        task=meta.get("task"),
        status=meta.get("status", "error"),
        points=float(meta.get("points", 0.0)),
        feedback=str(meta.get("feedback", "")),
        visibility=str(meta.get("visibility", "visible")),
        duration_s=round(duration, 4),
        group=str(meta.get("group", function.split("[", 1)[0])),
        needs=frozenset(meta.get("needs", ())),
        gate=bool(meta.get("gate", False)),
        large=bool(meta.get("large", False)),
        topology=bool(meta.get("topology", False)),
        consistent=meta.get("consistent"),
        own_forward=bool(meta.get("own_forward", False)),
        raised=meta.get("raised"),
        details=meta.get("details"),
    )
