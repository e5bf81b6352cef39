"""tests/submissions: one-bug and correct submissions written apart from the grader.

Each states, in its docstring, the task its one bug is in (`task: none` for a correct one), the
sections that must lose points and those that must keep full marks. They are graded with
`python -m grader batch` (one harness, a fork per entry), and each verdict is checked the way
`python -m grader check` checks it: the sections, and the first entry of "What to fix".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import selfcheck

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
ENTRIES = selfcheck.one_bug_submissions()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("submissions-graded")
    graded = {}
    for folder in ("one_bug", "correct"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "batch",
                str(SUBMISSIONS / folder),
                "--out",
                str(out / folder),
                "--jobs",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env=dict(os.environ),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        for report in (out / folder / "reports").glob("*.json"):
            graded[report.stem] = json.loads(report.read_text(encoding="utf-8"))
    return graded


def test_there_are_enough_cases_of_every_kind() -> None:
    expected = [selfcheck.expected_of(path) for path in ENTRIES]
    bugs = [e for e in expected if e.task is not None]
    assert len(bugs) >= 30 and len(expected) - len(bugs) >= 8
    assert {e.task.split(".")[0] for e in bugs} == {"1", "2", "3", "4", "5"}


@pytest.mark.slow
@pytest.mark.parametrize("path", ENTRIES, ids=[p.name for p in ENTRIES])
def test_a_submission_loses_points_only_where_its_bug_is(reports, path: Path) -> None:
    report = reports[path.name]
    assert report["errors"] == [], report["errors"]
    ok, line = selfcheck.verdict("submission", selfcheck.expected_of(path), report)
    assert ok, line
