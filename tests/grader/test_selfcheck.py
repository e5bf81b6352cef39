"""grader/selfcheck.py: `python -m grader check` passes on the kit and fails on a bad mutant."""

import subprocess
import sys
from pathlib import Path

from grader import selfcheck
from grader.mutants import MUTANTS, Mutant

KIT = Path(__file__).resolve().parents[2]


def test_check_passes_on_the_kit_with_a_few_mutants(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "check",
            "--mutant",
            "train_forgets_zero_grad",
            "--mutant",
            "exp_backward_uses_input",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "exercises in sync with solutions" in result.stdout
    assert "solutions score 112/112" in result.stdout
    assert "stubs score 0/100" in result.stdout
    assert "mutant exp_backward_uses_input: caught (backward" in result.stdout
    assert "Kit check passed: 5 of 5 checks passed." in result.stdout


def test_a_mutant_that_loses_nothing_fails_the_check(tmp_path):
    harmless = Mutant(
        "reworded_docstring",
        "train.py",
        "Return the mean of (prediction - target) ** 2 over the pairs, as a Value.",
        "Return the mean squared error.",
        ("training",),
    )
    assert selfcheck.check_mutant(harmless, tmp_path) == (
        False,
        "mutant reworded_docstring: did not lose points in training",
    )


def test_every_mutant_applies_exactly_once(tmp_path):
    for mutant in MUTANTS:
        mutant.apply(KIT / "solutions", tmp_path / mutant.name)
    assert len({m.name for m in MUTANTS}) == len(MUTANTS) >= 15
