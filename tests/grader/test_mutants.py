"""grader/mutants.py: each realistic student mistake costs points where it can, and nowhere else.

Every mutant of the catalogue, and a few more, is graded by `python -m grader`. Each states the
task its bug is in and the sections that must lose points; every other section must keep full
marks, and the first thing the student is told to fix must be that task.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from grader.mutants import ALL_SECTIONS, MUTANTS, Mutant
from grader.report import schema
from grader.tasks import TASKS

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
CATALOGUE = {mutant.name: mutant for mutant in MUTANTS}


@dataclass(frozen=True)
class Case:
    """A mutant, graded with these extra command-line arguments."""

    mutant: Mutant
    args: tuple[str, ...] = ()


PRIMITIVE_DIV_WITH_WRONG_SIGN = """\
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad += self.data / other.data**2 * out.grad

        out._backward = _backward
        return out
"""

# Each mutant must lose points in the section of its task only (`loses`: the catalogue says
# which, and docs/grading.md why a Layer returning a list also costs training), and be told to
# fix its own task first. The extras are mutants the catalogue does not hold.
CASES = [
    Case(m, ("--limit", "request_timeout_s=1") if m.name == "no_visited_set" else ())
    for m in MUTANTS
] + [
    Case(
        Mutant(
            "pow_rejects_float_exponents",
            "engine.py",
            "if not isinstance(k, (int, float)):",
            "if not isinstance(k, int):",
            "1.3",
            ("forward",),
        )
    ),
    Case(
        Mutant(
            "relu_backward_at_zero_passes_gradient",
            "engine.py",
            "if self.data > 0:",
            "if self.data >= 0:",
            "2.6",
            ("backward",),
        )
    ),
    Case(
        Mutant(
            "log_forward_uses_log10",
            "engine.py",
            "math.log(self.data)",
            "math.log10(self.data)",
            "1.7",
            ("forward",),
        )
    ),
    Case(
        Mutant(
            "div_backward_wrong_sign",
            "engine.py",
            "        return self * other**-1  # a / b == a * b**-1\n",
            PRIMITIVE_DIV_WITH_WRONG_SIGN,
            "1.10",
            ("backward",),
        )
    ),
    Case(
        Mutant(
            "train_records_loss_after_update",
            "train.py",
            "losses.append(loss.data)",
            "losses.append(mse_loss([model(x) for x in xs], ys).data)",
            "5.2",
            ("training",),
        )
    ),
]
BY_NAME = {case.mutant.name: case for case in CASES}
LOSES_MORE = {"layer_always_returns_list": {"training"}}
"""Bugs that cannot be separated from later tasks (docs/grading.md): train() cannot run."""


@pytest.fixture(scope="module")
def graded(grader_pool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Future]:
    """Every mutant's grading, all queued at once."""
    folder = tmp_path_factory.mktemp("mutants")
    return {
        name: grader_pool.submit(case.mutant.apply(SOLUTIONS, folder / name), *case.args)
        for name, case in BY_NAME.items()
    }


def test_every_mutant_states_a_task_and_its_sections() -> None:
    assert set(CATALOGUE) <= set(BY_NAME) and len(BY_NAME) == len(CASES) >= 20
    for case in CASES:
        assert case.mutant.loses and set(case.mutant.loses) <= set(ALL_SECTIONS)
        assert case.mutant.task in TASKS, case.mutant.name
        home = {TASKS[case.mutant.task].section}
        if case.mutant.task in ("1.8", "1.9", "1.10", "1.11"):  # derived ops: their grads too
            home.add("backward")
        assert set(case.mutant.loses) <= home | LOSES_MORE.get(case.mutant.name, set())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BY_NAME))
def test_mutant_loses_points_only_where_its_bug_is(graded: dict[str, Future], name: str) -> None:
    mutant, run = BY_NAME[name].mutant, graded[name].result()
    assert run.returncode == 0, run.stderr
    assert run.report["errors"] == []
    sections = {s["id"]: s for s in run.report["sections"]}
    assert sorted(sections) == sorted(ALL_SECTIONS)
    not_charged = [s for s in mutant.loses if sections[s]["score"] == sections[s]["max_score"]]
    assert not_charged == []
    charged_wrongly = [
        f"{t['id']}: {t['feedback']}"
        for s in mutant.keeps
        for t in sections[s]["tests"]
        if t["score"] < t["max_score"]
    ]
    assert charged_wrongly == []
    assert run.report["root_causes"][0]["task"] == mutant.task


@pytest.mark.slow
def test_a_wrong_rule_is_explained_with_expected_got_the_rule_and_a_guess(graded) -> None:
    result = graded["tanh_backward_uses_input"].result().case("backward::test_tanh[0.5]")
    assert result["status"] == "failed"
    assert result["feedback"].startswith("backward of out = x.tanh() at x=0.5: ")
    for part in ("expected x.grad=0.7864 (torch)", "got 0.75", "1 - tanh(x)^2", "Task 2.4"):
        assert part in result["feedback"]
    local = result["details"]["local"]
    assert (local["op"], local["guess"]) == ("tanh", "you used 1 - x^2 (the input, not tanh(x))")
    assert "x = Value(0.5)\nout = x.tanh()" in result["details"]["reproduce"]


@pytest.mark.slow
def test_an_overwritten_grad_is_told_to_accumulate(graded) -> None:
    run = graded["mul_backward_overwrites_grad"].result()
    feedback = run.case("backward::test_mul[x*x]")["feedback"]
    assert "expected x.grad=-3.5 (torch), got -1.75" in feedback
    assert "x.grad gets both contributions (+=, not =)" in feedback
    assert run.report["root_causes"][0]["test"].startswith("backward::test_mul[")


@pytest.mark.slow
def test_a_missing_visited_set_is_told_about_visiting_once(graded) -> None:
    run = graded["no_visited_set"].result()
    reused = run.case("backprop::test_reused_nodes[c*c]")
    assert reused["status"] == "failed"
    assert "its own backward runs once, after all of them (a visited set)" in reused["feedback"]
    ladder = run.case("backprop::test_reverse_topological_order[add]")
    assert ladder["status"] == "timeout" and ladder["score"] == 0
    assert "no answer within 2 s (an infinite loop, or far too slow?)" in ladder["feedback"]


@pytest.mark.slow
def test_a_recursion_error_points_at_the_students_file(graded) -> None:
    run = graded["recursive_topological_sort"].result()
    feedback = run.case("backprop::test_hundred_thousand_op_chain")["feedback"]
    assert "your code raised RecursionError at exercises/engine.py:" in feedback
    assert "maximum recursion depth exceeded" in feedback
    assert "build the order with an explicit stack" in feedback


@pytest.mark.slow
def test_a_mutants_report_follows_the_schema(graded) -> None:
    report = graded["tanh_backward_uses_input"].result().report
    jsonschema.Draft202012Validator(schema()).validate(report)
