"""grader/plugin.py: points per case, hidden tests held back or run, the secret seed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.mutants import Mutant

KIT = Path(__file__).resolve().parents[2]
HIDDEN_POINTS = 12


@pytest.fixture(scope="module")
def env():
    return dict(os.environ)  # with the session's oracle cache (tests/conftest.py)


def grade(path, tmp_path, env, *args):
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            str(path),
            "--json",
            str(report),
            "-q",
            "--section",
            "backward",
            "--section",
            "training",
            *args,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(report.read_text())


def cases_of(report):
    return [t for s in report["sections"] for t in s["tests"]]


def test_points_of_a_test_are_shared_by_its_cases(tmp_path, env):
    report = grade(KIT / "solutions", tmp_path, env)
    tanh = [t for t in cases_of(report) if t["id"].startswith("backward::test_tanh[")]
    assert len(tanh) == 7  # 3 points in eighths: 24 / 7, so three of 4/8 and four of 3/8
    assert sum(t["max_score"] for t in tanh) == 3
    assert sorted(t["max_score"] for t in tanh) == [0.375] * 4 + [0.5] * 3
    assert report["max_score"] == 25 + 15


def test_hidden_tests_are_held_back_unless_asked_for(tmp_path, env):
    report = grade(KIT / "solutions", tmp_path, env)
    assert report["hidden_points_held_back"] == HIDDEN_POINTS
    assert {t["visibility"] for t in cases_of(report)} == {"visible"}


@pytest.mark.torch
def test_hidden_tests_run_with_the_course_seed(tmp_path, env):
    report = grade(
        KIT / "solutions", tmp_path, env, "--hidden", "--course", str(KIT / "course.json")
    )
    hidden = [t for t in cases_of(report) if t["visibility"] == "hidden"]
    assert len(hidden) == 15 and all(t["status"] == "passed" for t in hidden)
    assert report["hidden_points_held_back"] == 0
    assert report["score"] == report["max_score"] == 25 + 15 + HIDDEN_POINTS


def test_hidden_tests_without_a_seed_are_not_run_and_say_why(tmp_path, env):
    empty = tmp_path / "course"
    empty.mkdir()
    report = grade(
        KIT / "solutions",
        empty,
        {**env, "HOME": str(empty)},
        "--hidden",
        "--course",
        str(empty / "missing.json"),
    )
    hidden = [t for t in cases_of(report) if t["visibility"] == "hidden"]
    assert hidden and all(t["status"] == "skipped" for t in hidden)
    assert all("secret seed" in t["feedback"] for t in hidden)


HARD_CODED_TANH = Mutant(
    "tanh_backward_hard_coded_for_the_public_points",
    "engine.py",
    "self.grad += (1 - out.data**2) * out.grad",
    "self.grad += {0.5: 0.7864477329659274, -1.2: 0.30501999620740905, "
    "2.0: 0.07065082485316443}.get(self.data, 0.5) * out.grad",
    "2.4",
    ("backward",),
)


@pytest.mark.torch
def test_answers_hard_coded_from_the_public_suite_earn_nothing_in_hidden_tests(tmp_path, env):
    cheat = HARD_CODED_TANH.apply(KIT / "solutions", tmp_path / "cheat")
    report = grade(cheat, tmp_path, env, "--hidden", "--course", str(KIT / "course.json"))
    by_id = {t["id"]: t for t in cases_of(report)}
    root_cases = [by_id[f"backward::test_tanh[{x}]"] for x in ("0.5", "-1.2", "2.0")]
    assert all("this case itself passed" in t["feedback"] for t in root_cases)
    secret = [by_id[f"backward::test_secret_points[tanh-{kind}]"] for kind in ("root", "upstream")]
    assert [t["score"] for t in secret] == [0, 0]
    assert all("expected x.grad=" in t["feedback"] for t in secret)
    assert by_id["backward::test_tanh[one-pass]"]["status"] == "failed"


def test_different_seeds_draw_different_hidden_inputs():
    sys.path.insert(0, str(KIT / "grader" / "hidden"))
    try:
        import hidden_test_backward as hidden
    finally:
        sys.path.pop(0)
    assert all(hidden.secret_operands(op, 1) != hidden.secret_operands(op, 2) for op in hidden.OPS)
