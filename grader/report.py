"""Report: the versioned JSON report (every key always present) and its terminal summary."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.blame import RootCause
from grader.protocol import printable
from grader.score import SectionResult

SCHEMA_VERSION = 2
_UMASK = os.umask(0o22)
os.umask(_UMASK)
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


@dataclass(frozen=True)
class Report:
    """Everything one grading run found; `to_json` is the report file's content."""

    score: float
    """Points earned (multiples of 1/8: any sum of them is exact)."""
    max_score: float
    """Points available in the sections that were run."""
    sections: tuple[SectionResult, ...]
    root_causes: tuple[RootCause, ...]
    """What to fix, in the order to fix it: one entry per task that is wrong."""
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
        return {"schema_version": SCHEMA_VERSION, **_finite(asdict(self))}


def _finite(value):
    """Plain JSON: a NaN or infinity the submission gave becomes the string "nan", "inf"."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_text_atomic(path: Path, text: str) -> None:
    """Write `path` so that readers see the old file or the whole new one, never a half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # as open() would: mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(report: Report, path: Path) -> None:
    write_text_atomic(path, json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n")


def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def render(report: Report, verbose: bool = False) -> str:
    """The problem that stops everything (if any), the section table, what to fix first
    (one entry per wrong task, in order), and the score; -v adds every case that failed."""
    lines = [f"scratchgrad: grading {report.submission['path']} ({report.submission['kind']})", ""]
    if report.errors:
        lines += ["Problems with the submission:"]
        lines += [f"  {e['kind']}: {e['message']}" for e in report.errors] + [""]
    width = max([len(s.title) for s in report.sections] + [20])
    for section in report.sections:
        passed = sum(t.status == "passed" for t in section.tests)
        lines.append(
            f"  {section.title:<{width}}  {points(section.score):>6} / "
            f"{points(section.max_score):<6} ({passed}/{len(section.tests)} tests passed)"
        )
    causes = [c for c in report.root_causes if c.task != "submission" or not report.errors]
    if causes:
        lines += ["", "What to fix, in this order:"]
        for number, cause in enumerate(causes, start=1):
            name = "" if cause.task == "submission" else f"Task {cause.task}, "
            lines.append(f"  {number}. {name}{cause.title} (-{points(cause.points_lost)} points)")
            lines.append(f"     {cause.message}")
            extra = _counts(cause)
            if extra:
                lines.append(f"     {extra}")
    elif report.errors and any(t.status != "passed" for s in report.sections for t in s.tests):
        lines += ["", "Every test is blocked by the problem above: fix it first."]
    if verbose:
        failing = [t for s in report.sections for t in s.tests if t.status != "passed"]
        if failing:
            lines += ["", "Every case that did not pass:"]
            for test in failing:
                lines.append(f"  [{test.status}] {test.id}")
                lines.append(f"      {test.feedback}")
                reproduce = (test.details or {}).get("reproduce")
                if reproduce:
                    lines += [f"      | {line}" for line in reproduce.splitlines()]
    lines.append("")
    lines.append(f"Score: {points(report.score)}/{points(report.max_score)}")
    if report.hidden_points_held_back:
        lines.append(
            f"Hidden tests worth {points(report.hidden_points_held_back)} more points run "
            "only in the course's autograder."
        )
    return "\n".join(printable(line, 2000) for line in lines)


def _counts(cause: RootCause) -> str:
    parts = []
    if len(cause.cases) > 1:
        parts.append(f"{len(cause.cases)} of its cases fail")
    if cause.blocks:
        sections = sorted({b.split("::", 1)[0] for b in cause.blocks})
        parts.append(f"it also blocks {len(cause.blocks)} cases in {', '.join(sections)}")
    if not parts:
        return ""
    return "; ".join(parts) + " (-v shows every case)"


def points(x: float) -> str:
    """Points as people write them: 7, 7.5, 0.375."""
    return f"{x:g}" if x == int(x) else f"{x:.3f}".rstrip("0").rstrip(".")
