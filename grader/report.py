"""Report: the versioned JSON report (every key always present) and its terminal summary."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.score import SectionResult

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


@dataclass(frozen=True)
class Report:
    """Everything one grading run found; `to_json` is the report file's content."""

    score: float
    """Points in the core sections (extra credit excluded)."""
    max_score: float
    """Points available in the core sections that were run."""
    sections: tuple[SectionResult, ...]
    hidden_points_held_back: float
    """Points of hidden tests that only the course's autograder runs."""
    errors: tuple[dict, ...]
    """Each {kind, message}: problems with the submission as a whole."""
    submission: dict
    """{path, kind, sha256}."""
    environment: dict
    """{python, torch, grader, platform, limits}."""
    student_output: dict
    """{text, bytes, truncated}: what the submission printed."""
    started_at: str
    duration_s: float

    def to_json(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}

    @property
    def extra_credit(self) -> tuple[float, float]:
        extra = [s for s in self.sections if s.extra_credit]
        return sum(s.score for s in extra), sum(s.max_score for s in extra)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `path` so that readers see the old file or the whole new one, never a half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(report: Report, path: Path) -> None:
    write_text_atomic(path, json.dumps(report.to_json(), indent=2) + "\n")


def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def render(report: Report, verbose: bool = False) -> str:
    """Per-section table, then failing tests with feedback, then errors, then the score."""
    lines = [f"scratchgrad: grading {report.submission['path']} ({report.submission['kind']})", ""]
    width = max([len(s.title) for s in report.sections] + [20])
    for section in report.sections:
        passed = sum(t.status == "passed" for t in section.tests)
        lines.append(
            f"  {section.title:<{width}}  {_pts(section.score):>6} / "
            f"{_pts(section.max_score):<6} ({passed}/{len(section.tests)} tests passed)"
        )
    failing = [(s, t) for s in report.sections for t in s.tests if t.status != "passed"]
    if failing:
        lines += [
            "",
            "What to fix:" if any(t.status != "skipped" for _, t in failing) else "Not run:",
        ]
        shown = failing if verbose else _one_per_test(failing)
        for _section, test in shown:
            lines.append(f"  [{test.status}] {test.id}")
            lines.append(f"      {test.feedback}")
        if len(shown) < len(failing):
            lines.append(
                f"  ... and {len(failing) - len(shown)} more failing cases of the same "
                "tests (-v shows all; the JSON report has every one)"
            )
    if report.errors:
        lines += ["", "Problems with the submission:"]
        lines += [f"  {e['kind']}: {e['message']}" for e in report.errors]
    lines.append("")
    lines.append(f"Score: {_pts(report.score)}/{_pts(report.max_score)}")
    extra, extra_max = report.extra_credit
    if extra_max:
        lines.append(f"Extra credit: {_pts(extra)}/{_pts(extra_max)}")
    if report.hidden_points_held_back:
        lines.append(
            f"Hidden tests worth {_pts(report.hidden_points_held_back)} more points run "
            "only in the course's autograder."
        )
    return "\n".join(lines)


def _one_per_test(failing: list) -> list:
    """The first failing case of each test function: one bug, one message."""
    seen, shown = set(), []
    for section, test in failing:
        function = test.id.split("[", 1)[0]
        if function not in seen:
            seen.add(function)
            shown.append((section, test))
    return shown


def _pts(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.2f}"
