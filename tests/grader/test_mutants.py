"""grader/mutants.py: each realistic student mistake costs points where it can, and nowhere else.

Every mutant of the catalogue, and a few more, is graded by `python -m grader`. Each case states
the sections where its bug must cost points (`lost`) and those it cannot affect (`kept`: full
marks); together they are every section, and the test checks both.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from grader.mutants import ALL_SECTIONS, MUTANTS, Mutant
from grader.report import schema

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
CATALOGUE = {mutant.name: mutant for mutant in MUTANTS}


@dataclass(frozen=True)
class Case:
    """A mutant, and where its grading must lose and keep points."""

    mutant: Mutant
    lost: tuple[str, ...]
    """Sections where the bug must cost points."""
    kept: tuple[str, ...]
    """Sections the bug cannot affect: they keep full marks."""
    args: tuple[str, ...] = ()
    """Extra command-line arguments for its grading."""


def catalogued(
    name: str, *, lost: tuple[str, ...], kept: tuple[str, ...], args: tuple[str, ...] = ()
) -> Case:
    return Case(CATALOGUE[name], lost, kept, args)


def extra(
    name: str, file: str, old: str, new: str, *, lost: tuple[str, ...], kept: tuple[str, ...]
) -> Case:
    """A mutant the catalogue does not have."""
    return Case(Mutant(name, file, old, new, lost), lost, kept)


PRIMITIVE_DIV_WITH_WRONG_SIGN = """\
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad += self.data / other.data**2 * out.grad

        out._backward = _backward
        return out
"""

# What each section runs decides what a bug can reach:
# - forward: each op's value, with Values and numbers on either side; never backward();
# - backward: one op on fresh leaves, comparing only the leaves' grads, so a wrong value of the
#   op itself is charged in forward alone (a - b is a + (-b) and a / b is a * b**-1: two ops);
# - backprop: graphs of +, -, * and neg with numbers on the right, inner nodes reused;
# - nn: Neurons of * and + then tanh (the default), relu or nothing; gradients of two inputs
#   through MLPs, so inputs, weights, biases and hidden outputs are all used more than once;
# - training: MLPs (tanh; relu then linear) trained on mse_loss: p - t for a number t, ** 2,
#   a sum, / n for a number n;
# - stretch: one chain of 100,000 additions, each node used once.
CASES = [
    catalogued(
        "reused_node_overwrites_grad",
        lost=("backprop", "nn", "training"),
        kept=("forward", "backward", "stretch"),
    ),
    catalogued(
        "mul_backward_overwrites_grad",
        lost=("backprop", "nn", "training"),
        kept=("forward", "backward", "stretch"),
    ),
    catalogued(
        "tanh_backward_uses_input",
        lost=("backward", "nn", "training"),
        kept=("forward", "backprop", "stretch"),
    ),
    catalogued(
        "pow_backward_off_by_one",  # mse_loss squares with ** 2
        lost=("backward", "training"),
        kept=("forward", "backprop", "nn", "stretch"),
    ),
    catalogued(
        "exp_backward_uses_input",
        lost=("backward",),
        kept=("forward", "backprop", "nn", "training", "stretch"),
    ),
    catalogued(
        "log_backward_divides_by_output",
        lost=("backward",),
        kept=("forward", "backprop", "nn", "training", "stretch"),
    ),
    catalogued(
        "relu_backward_ignores_sign",
        lost=("backward", "nn", "training"),
        kept=("forward", "backprop", "stretch"),
    ),
    catalogued(
        "rsub_backwards",
        lost=("forward", "backward"),
        kept=("backprop", "nn", "training", "stretch"),
    ),
    catalogued(
        "backward_in_forward_order",
        lost=("backward", "backprop", "nn", "training", "stretch"),
        kept=("forward",),
    ),
    # A reused leaf is harmless, a reused inner node passes its grad on twice. The walk is
    # exponential on deep graphs: a short request timeout keeps this grading fast.
    catalogued(
        "no_visited_set",
        lost=("backprop", "nn", "training"),
        kept=("forward", "backward", "stretch"),
        args=("--limit", "request_timeout_s=1"),
    ),
    catalogued(
        "recursive_topological_sort",
        lost=("stretch",),
        kept=("forward", "backward", "backprop", "nn", "training"),
    ),
    catalogued(
        "neuron_forgets_bias",
        lost=("nn", "training"),
        kept=("forward", "backward", "backprop", "stretch"),
    ),
    catalogued(
        "parameters_bias_first",
        lost=("nn", "training"),
        kept=("forward", "backward", "backprop", "stretch"),
    ),
    catalogued(
        "layer_always_returns_list",
        lost=("nn", "training"),
        kept=("forward", "backward", "backprop", "stretch"),
    ),
    catalogued(
        "zero_grad_zeroes_data",
        lost=("nn", "training"),
        kept=("forward", "backward", "backprop", "stretch"),
    ),
    catalogued(
        "mse_sums_instead_of_mean",
        lost=("training",),
        kept=("forward", "backward", "backprop", "nn", "stretch"),
    ),
    catalogued(
        "train_forgets_zero_grad",
        lost=("training",),
        kept=("forward", "backward", "backprop", "nn", "stretch"),
    ),
    catalogued(
        "learning_step_climbs_gradient",
        lost=("training",),
        kept=("forward", "backward", "backprop", "nn", "stretch"),
    ),
    extra(
        "pow_rejects_float_exponents",
        "engine.py",
        "if not isinstance(k, (int, float)):",
        "if not isinstance(k, int):",
        lost=("forward", "backward"),
        kept=("backprop", "nn", "training", "stretch"),
    ),
    extra(
        "relu_backward_at_zero_passes_gradient",
        "engine.py",
        "if self.data > 0:",
        "if self.data >= 0:",
        # The second training run meets a pre-activation of exactly 0.
        lost=("backward", "training"),
        kept=("forward", "backprop", "nn", "stretch"),
    ),
    extra(
        "log_forward_uses_log10",
        "engine.py",
        "math.log(self.data)",
        "math.log10(self.data)",
        # The rule 1/x reads the input, not out.data: the leaves' grads stay right.
        lost=("forward",),
        kept=("backward", "backprop", "nn", "training", "stretch"),
    ),
    extra(
        "div_backward_wrong_sign",
        "engine.py",
        "        return self * other**-1  # a / b == a * b**-1\n",
        PRIMITIVE_DIV_WITH_WRONG_SIGN,
        # mse_loss divides by a number n, whose (wrong) grad nobody reads.
        lost=("backward",),
        kept=("forward", "backprop", "nn", "training", "stretch"),
    ),
    extra(
        "train_records_loss_after_update",
        "train.py",
        "losses.append(loss.data)",
        "losses.append(mse_loss([model(x) for x in xs], ys).data)",
        lost=("training",),
        kept=("forward", "backward", "backprop", "nn", "stretch"),
    ),
]
BY_NAME = {case.mutant.name: case for case in CASES}


@pytest.fixture(scope="module")
def graded(grader_pool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Future]:
    """Every mutant's grading, all queued at once."""
    folder = tmp_path_factory.mktemp("mutants")
    return {
        name: grader_pool.submit(case.mutant.apply(SOLUTIONS, folder / name), *case.args)
        for name, case in BY_NAME.items()
    }


def test_every_catalogued_mutant_has_a_case_stating_each_section_once() -> None:
    assert set(CATALOGUE) <= set(BY_NAME) and len(BY_NAME) == len(CASES) >= 15
    for case in CASES:
        assert case.lost, case.mutant.name
        assert sorted(case.lost + case.kept) == sorted(ALL_SECTIONS), case.mutant.name
        assert set(case.lost) == set(case.mutant.loses), f"{case.mutant.name}: catalogue differs"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BY_NAME))
def test_mutant_loses_points_only_where_its_bug_is(graded: dict[str, Future], name: str) -> None:
    case, run = BY_NAME[name], graded[name].result()
    assert run.returncode == 0, run.stderr
    assert run.report["errors"] == []
    sections = {s["id"]: s for s in run.report["sections"]}
    assert sorted(sections) == sorted(ALL_SECTIONS)
    not_charged = [s for s in case.lost if sections[s]["score"] == sections[s]["max_score"]]
    assert not_charged == []
    charged_wrongly = [
        f"{t['id']}: {t['feedback']}"
        for s in case.kept
        for t in sections[s]["tests"]
        if t["status"] != "passed"
    ]
    assert charged_wrongly == []


@pytest.mark.slow
def test_a_wrong_rule_is_explained_with_expected_got_and_the_rule(graded) -> None:
    result = graded["tanh_backward_uses_input"].result().case("backward::test_tanh[0.5]")
    assert result["status"] == "failed"
    assert result["feedback"].startswith("backward of out = tanh(x) at x=0.5: ")
    for part in ("expected x.grad=0.7864 (torch)", "got 0.75", "1 - tanh(x)^2", "Task 2.4"):
        assert part in result["feedback"]


@pytest.mark.slow
def test_a_graph_failure_names_the_first_differing_node(graded) -> None:
    run = graded["mul_backward_overwrites_grad"].result()
    feedback = run.case("backprop::test_reused_nodes[a*a]")["feedback"]
    assert "expected a.grad=6 (torch), got 3" in feedback
    assert "must accumulate (+=)" in feedback


@pytest.mark.slow
def test_a_timeout_is_a_result_with_a_hint(graded) -> None:
    run = graded["no_visited_set"].result()
    result = run.case("backprop::test_reverse_topological_order[ladder]")
    assert result["status"] == "timeout" and result["score"] == 0
    assert "no answer within 1 s (an infinite loop, or far too slow?)" in result["feedback"]


@pytest.mark.slow
def test_a_recursion_error_points_at_the_students_file(graded) -> None:
    run = graded["recursive_topological_sort"].result()
    feedback = run.case("stretch::test_hundred_thousand_op_chain")["feedback"]
    assert "your code raised RecursionError at exercises/engine.py:" in feedback
    assert "maximum recursion depth exceeded" in feedback
    assert "build the order with an explicit stack" in feedback


@pytest.mark.slow
def test_a_mutants_report_follows_the_schema(graded) -> None:
    report = graded["tanh_backward_uses_input"].result().report
    jsonschema.Draft202012Validator(schema()).validate(report)
