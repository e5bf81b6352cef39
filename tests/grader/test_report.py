"""grader/report.py: atomic writes and the terminal summary."""

from pathlib import Path

import pytest

from grader.report import Report, render, write_text_atomic
from grader.score import CaseResult, SectionResult


def test_write_text_atomic_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")
    write_text_atomic(target, "new ✓\n")
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert list(tmp_path.iterdir()) == [target]


def test_write_text_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(target, "\ud800")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def one_failing_report() -> Report:
    failing = CaseResult(
        "backward::test_tanh[0.5]",
        "backward of tanh(x) [0.5]",
        "2.4",
        "failed",
        0.0,
        1.0,
        "backward of out = tanh(x) at x=0.5: expected x.grad=0.7864 "
        "(torch), got 0.75; d tanh(x)/dx = 1 - tanh(x)^2 (Task 2.4)",
        "visible",
        0.01,
    )
    passing = CaseResult(
        "backward::test_exp[0.5]",
        "backward of exp(x) [0.5]",
        "2.5",
        "passed",
        2.0,
        2.0,
        "",
        "visible",
        0.01,
    )
    section = SectionResult(
        "backward", "Backward rule of each op", 2.0, 3.0, False, (failing, passing)
    )
    return Report(
        2.0,
        3.0,
        (section,),
        4.0,
        ({"kind": "import", "message": "boom"},),
        {"path": "x.py", "kind": "module", "sha256": "0" * 64},
        {"python": "3.11", "torch": None, "grader": "0", "platform": "linux", "limits": {}},
        {"text": "", "bytes": 0, "truncated": False},
        "2026-01-01T00:00:00+00:00",
        1.0,
    )


def test_render_shows_table_then_feedback_then_score() -> None:
    text = render(one_failing_report())
    table, feedback, score = (
        text.index("Backward rule of each op"),
        text.index("expected x.grad=0.7864"),
        text.index("Score: 2/3"),
    )
    assert table < feedback < score
    assert "(1/2 tests passed)" in text
    assert "import: boom" in text
    assert "Hidden tests worth 4 more points" in text
