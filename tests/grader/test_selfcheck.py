"""grader/selfcheck.py: `python -m grader check` passes on the kit and fails on a bad mutant."""

import subprocess
import sys
from pathlib import Path

import pytest

from grader import selfcheck
from grader.mutants import MUTANTS, Mutant

KIT = Path(__file__).resolve().parents[2]


@pytest.mark.torch
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
    assert "shipped expectations match torch" in result.stdout
    assert "solutions score 112/112 with hidden tests" in result.stdout
    assert "stubs score 0/100" in result.stdout
    assert "mutant exp_backward_uses_input: caught in Task 2.5 (backward" in result.stdout
    assert "Kit check passed: 6 of 6 checks passed." in result.stdout


def test_a_mutant_that_loses_nothing_fails_the_check(tmp_path):
    harmless = Mutant(
        "reworded_docstring",
        "train.py",
        "Return the mean of (prediction - target) ** 2 over the pairs, as a Value.",
        "Return the mean squared error.",
        "5.1",
        ("training",),
    )
    assert selfcheck.check_mutant(harmless, tmp_path) == (
        False,
        "mutant reworded_docstring: did not lose points in training; "
        "was told to fix Task None first, not Task 5.1",
    )


def test_a_submission_states_its_verdict_in_its_docstring(tmp_path):
    path = tmp_path / "tanh_rule_uses_the_input.py"
    path.write_text(
        '"""tanh\'s rule uses x, not tanh(x).\n\ntask: 2.4\nloses: backward\n'
        'keeps: forward, backprop, nn, training\n"""\n',
        encoding="utf-8",
    )
    assert selfcheck.expected_of(path) == selfcheck.Expected(
        "tanh_rule_uses_the_input",
        "2.4",
        ("backward",),
        ("forward", "backprop", "nn", "training"),
    )


def test_every_mutant_applies_exactly_once(tmp_path):
    for mutant in MUTANTS:
        mutant.apply(KIT / "solutions", tmp_path / mutant.name)
    assert len({m.name for m in MUTANTS}) == len(MUTANTS) >= 15
