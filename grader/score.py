"""Score: turn pytest-json-report's raw results into sections, tests and points."""

from __future__ import annotations

from dataclasses import dataclass

SECTIONS = {
    "forward": ("Forward pass of each op", False),
    "backward": ("Backward rule of each op", False),
    "backprop": ("backward() through whole graphs", False),
    "nn": ("Neuron, Layer and MLP", False),
    "training": ("Loss and training loop", False),
    "stretch": ("Stretch: 100,000-op graphs (extra credit)", True),
}
"""Section id -> (title, extra credit). A suite file test_<id>.py holds each section's tests."""


@dataclass(frozen=True)
class CaseResult:
    """One test case's verdict and points."""

    id: str
    """section::test[case], stable across runs."""
    name: str
    """What it checks, in words."""
    task: str | None
    """The exercise task it checks."""
    status: str
    """passed, failed, error, timeout or skipped."""
    score: float
    max_score: float
    feedback: str
    """Empty when passed."""
    visibility: str
    """visible or hidden."""
    duration_s: float


@dataclass(frozen=True)
class SectionResult:
    """A section's tests and points."""

    id: str
    title: str
    score: float
    max_score: float
    extra_credit: bool
    tests: tuple[CaseResult, ...]


def tally(raw: dict) -> list[SectionResult]:
    """Group pytest-json-report's tests by section, in the fixed section order."""
    by_section: dict[str, list[CaseResult]] = {}
    for test in raw.get("tests", []):
        section = section_of(test["nodeid"])
        by_section.setdefault(section, []).append(_test_result(section, test))
    results = []
    for section, tests in by_section.items():
        title, extra = SECTIONS.get(section, (section, False))
        results.append(
            SectionResult(
                id=section,
                title=title,
                score=_points(sum(t.score for t in tests)),
                max_score=_points(sum(t.max_score for t in tests)),
                extra_credit=extra,
                tests=tuple(tests),
            )
        )
    order = list(SECTIONS)
    return sorted(results, key=lambda s: (order.index(s.id) if s.id in order else len(order), s.id))


def section_of(nodeid: str) -> str:
    """`.../test_backward.py::test_tanh[0.5]` -> `backward` (hidden_test_backward.py too)."""
    filename = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    stem = filename.removesuffix(".py")
    return stem.removeprefix("hidden_").removeprefix("test_")


def _test_result(section: str, test: dict) -> CaseResult:
    meta = test.get("metadata") or {}
    status = meta.get("status", "error")
    points = float(meta.get("points", 0.0))
    duration = sum(
        float(test.get(phase, {}).get("duration", 0.0)) for phase in ("setup", "call", "teardown")
    )
    function = test["nodeid"].split("::", 1)[1]
    return CaseResult(
        id=f"{section}::{function}",
        name=str(meta.get("name", function)),
        task=meta.get("task"),
        status=status,
        score=points if status == "passed" else 0.0,
        max_score=points,
        feedback=str(meta.get("feedback", "")),
        visibility=str(meta.get("visibility", "visible")),
        duration_s=round(duration, 4),
    )


def _points(x: float) -> float:
    return round(x, 4)
