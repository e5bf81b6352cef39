"""grader/cli.py: exit statuses. 0 whatever the score, 1 below --fail-under, 2 for usage errors."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest

from grader.cli import main

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS, EXERCISES = REPO / "solutions", REPO / "exercises"
TRAINING = ("--section", "training")  # 15 points, quick to grade


@pytest.fixture(scope="module")
def graded(grader_pool) -> dict[str, Future]:
    return {
        "zero": grader_pool.submit(EXERCISES, *TRAINING),
        "zero, fail under 1": grader_pool.submit(EXERCISES, *TRAINING, "--fail-under", "1"),
        "15, fail under 15": grader_pool.submit(SOLUTIONS, *TRAINING, "--fail-under", "15"),
        "15, fail under 15.5": grader_pool.submit(SOLUTIONS, *TRAINING, "--fail-under", "15.5"),
        "no such path": grader_pool.submit("no_such_folder"),
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, status, score",
    [
        ("zero", 0, 0),
        ("zero, fail under 1", 1, 0),
        ("15, fail under 15", 0, 15),
        ("15, fail under 15.5", 1, 15),
    ],
)
def test_the_exit_status_reflects_only_fail_under(
    graded: dict[str, Future], name: str, status: int, score: float
) -> None:
    run = graded[name].result()
    assert run.returncode == status, run.stderr
    assert run.report["score"] == score
    assert run.stdout == f"Score: {score}/15\n"


@pytest.mark.slow
def test_a_path_that_does_not_exist_exits_2_with_a_sentence(graded: dict[str, Future]) -> None:
    run = graded["no such path"].result()
    assert run.returncode == 2
    assert run.report is None and run.stdout == ""
    assert run.stderr.startswith(
        "error: No submission at no_such_folder. Pass a path: python -m grader my_work.ipynb"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--section", "nope"],
        ["--fail-under", "half"],
        ["--verbose", "--quiet"],
        ["--no-such-option"],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: python -m grader" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, sentence",
    [
        (["--limit", "speed=11"], "error: Unknown limit 'speed'. Known limits: "),
        (["--limit", "memory_mb=lots"], "error: Limit memory_mb needs a"),
        ([str(REPO / "README.md")], "is not a folder, a .py file or a .ipynb notebook. Pass "),
    ],
)
def test_usage_errors_exit_2_with_a_sentence(
    argv: list[str], sentence: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--json", str(tmp_path / "report.json")]) == 2
    assert sentence in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    "flags, sentence",
    [
        (["--hidden"], "--hidden needs the hidden tests' expected values"),
        (["--no-cache"], "--no-cache computes every expected value with torch"),
    ],
)
def test_without_torch_what_needs_it_stops_before_grading(
    flags: list[str],
    sentence: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Not a score with every hidden test "failed by the grader": a sentence saying what to do."""
    monkeypatch.setattr("grader.pipeline.installed_torch_version", lambda: None)
    monkeypatch.setenv("SCRATCHGRAD_SECRET_SEED", "7")
    assert main([str(REPO / "solutions"), *flags, "--json", str(tmp_path / "report.json")]) == 2
    err = capsys.readouterr().err
    assert sentence in err and "pip install torch --index-url" in err
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    "course, sentence",
    [
        ('{"secret_seed": "my-course-2026"}', "must be a whole number, such as"),
        ('{"secret_seed": 1.5e3}', "must be a whole number, such as"),
        ('{"seed": 123456789}', "has no secret_seed. Write it as"),
        ('{"secret_seed": 12,}', "Cannot read the course file"),
        ("[123456789]", "has no secret_seed"),
    ],
)
def test_a_course_file_the_grader_cannot_use_is_a_usage_error(
    course: str, sentence: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An instructor's typo in course.json: one sentence naming the file, no traceback, no
    report, before any grading."""
    path = tmp_path / "course.json"
    path.write_text(course, encoding="utf-8")
    report = tmp_path / "report.json"
    assert main([str(SOLUTIONS), "--hidden", "--course", str(path), "--json", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and sentence in err and str(path) in err
    assert "Traceback" not in err and not report.exists()
