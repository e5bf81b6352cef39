"""Realistic student mistakes, each a small patch to the reference: the grader charges each one
in the sections it can affect, and in no other.

Each mutant is the reference package with one textual patch, named after its bug and graded by
`python -m grader` on exactly the sections it states: `lost` (it must lose points there) and
`kept` (sections it cannot affect: full marks).
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from grader.report import schema

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ("forward", "backward", "backprop", "nn", "training", "stretch")


@dataclass(frozen=True)
class Mutant:
    """The reference with one bug: `old` (found exactly once in `file`) replaced by `new`."""

    name: str
    file: str
    old: str
    new: str
    lost: tuple[str, ...]
    """Sections where the bug must cost points."""
    kept: tuple[str, ...]
    """Sections the bug cannot affect: they keep full marks."""


RECURSIVE_TOPO = '''\
        def build_topo(node: Value) -> None:
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    build_topo(child)
                topo.append(node)

        build_topo(self)
'''
ITERATIVE_TOPO = '''\
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
'''
PRIMITIVE_DIV_WRONG_SIGN = '''\
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad += self.data / other.data**2 * out.grad

        out._backward = _backward
        return out
'''

# Why a section is kept is not always obvious; the reasons:
# - backward compares only the inputs' grads of one op, so a wrong forward is not charged there;
# - backprop builds graphs of +, -, * and neg (= * -1) only, with numbers on the right;
# - nn builds Neurons from * and + (tanh by default), and calls backward() in test_mlp_gradients;
# - training uses - (Value - number), ** 2 and / len (a number): no reflected op, no Value pow;
# - stretch builds chains of * and + only, each node used once.
MUTANTS = [
    Mutant("tanh_backward_uses_input", "engine.py",
           "(1 - out.data**2) * out.grad", "(1 - self.data**2) * out.grad",
           lost=("backward", "nn", "training"), kept=("forward", "backprop", "stretch")),
    Mutant("reused_node_overwrites_grad", "engine.py",
           "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
           "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
           # One-op graphs have distinct inputs; MLPs reuse inputs and weights (one per example).
           lost=("backprop", "nn", "training"), kept=("forward", "backward", "stretch")),
    Mutant("pow_backward_off_by_one", "engine.py",
           "k * self.data ** (k - 1) * out.grad", "k * self.data**k * out.grad",
           # mse_loss squares with ** 2.
           lost=("backward", "training"), kept=("forward", "backprop", "nn", "stretch")),
    Mutant("pow_rejects_float_exponents", "engine.py",
           "if not isinstance(k, (int, float)):", "if not isinstance(k, int):",
           lost=("forward", "backward"), kept=("backprop", "nn", "training", "stretch")),
    Mutant("exp_backward_uses_input", "engine.py",
           "self.grad += out.data * out.grad", "self.grad += self.data * out.grad",
           lost=("backward",), kept=("forward", "backprop", "nn", "training", "stretch")),
    Mutant("relu_backward_at_zero_passes_gradient", "engine.py",
           "if self.data > 0:", "if self.data >= 0:",
           lost=("backward",), kept=("forward", "backprop", "nn", "training", "stretch")),
    Mutant("log_forward_uses_log10", "engine.py",
           "math.log(self.data)", "math.log10(self.data)",
           # The log rule 1/x does not read out.data, so backward stays right.
           lost=("forward",), kept=("backward", "backprop", "nn", "training", "stretch")),
    Mutant("log_backward_divides_by_output", "engine.py",
           "self.grad += out.grad / self.data", "self.grad += out.grad / out.data",
           lost=("backward",), kept=("forward", "backprop", "nn", "training", "stretch")),
    Mutant("div_backward_wrong_sign", "engine.py",
           "        return self * other**-1  # a / b == a * b**-1\n", PRIMITIVE_DIV_WRONG_SIGN,
           # mse_loss divides by a number, whose (wrong) grad nobody reads.
           lost=("backward",), kept=("forward", "backprop", "nn", "training", "stretch")),
    Mutant("rsub_subtracts_the_wrong_way", "engine.py",
           "return -self + other  # b - a == (-a) + b", "return self - other",
           lost=("forward", "backward"), kept=("backprop", "nn", "training", "stretch")),
    Mutant("backward_in_forward_order", "engine.py",
           "for node in reversed(topo):", "for node in topo:",
           # A one-op graph still works, but a - b is a + (-b): two ops.
           lost=("backward", "backprop", "nn", "training", "stretch"), kept=("forward",)),
    Mutant("root_grad_not_seeded", "engine.py",
           "        self.grad = 1.0\n", "",
           lost=("backward", "backprop", "nn", "training", "stretch"), kept=("forward",)),
    Mutant("topo_sort_without_visited_set", "engine.py",
           "elif node not in visited:", "else:",
           # A reused leaf is harmless; a reused inner node passes its grad on twice.
           lost=("backprop", "nn", "training"), kept=("forward", "backward", "stretch")),
    Mutant("recursive_topological_sort", "engine.py", ITERATIVE_TOPO, RECURSIVE_TOPO,
           lost=("stretch",), kept=("forward", "backward", "backprop", "nn", "training")),
    Mutant("zero_grad_rebinds_the_loop_variable", "nn.py",
           "p.grad = 0.0", "p = Value(0.0)",
           lost=("nn", "training"), kept=("forward", "backward", "backprop", "stretch")),
    Mutant("neuron_forgets_bias", "nn.py",
           "sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)",
           "sum(wi * xi for wi, xi in zip(self.w, x, strict=True))",
           lost=("nn", "training"), kept=("forward", "backward", "backprop", "stretch")),
    Mutant("neuron_applies_tanh_for_relu", "nn.py",
           'if self.activation == "tanh":', 'if self.activation != "linear":',
           lost=("nn", "training"), kept=("forward", "backward", "backprop", "stretch")),
    Mutant("neuron_parameters_bias_first", "nn.py",
           "return self.w + [self.b]", "return [self.b] + self.w",
           lost=("nn", "training"), kept=("forward", "backward", "backprop", "stretch")),
    Mutant("layer_always_returns_a_list", "nn.py",
           "return outs[0] if len(outs) == 1 else outs", "return outs",
           lost=("nn", "training"), kept=("forward", "backward", "backprop", "stretch")),
    Mutant("mse_loss_sums_instead_of_mean", "train.py",
           "sum(squared_errors, Value(0.0)) / len(squared_errors)", "sum(squared_errors, Value(0.0))",
           lost=("training",), kept=("forward", "backward", "backprop", "nn", "stretch")),
    Mutant("train_without_zero_grad", "train.py",
           "        model.zero_grad()\n", "",
           lost=("training",), kept=("forward", "backward", "backprop", "nn", "stretch")),
    Mutant("train_steps_up_the_gradient", "train.py",
           "            p.data -= lr * p.grad", "            p.data += lr * p.grad",
           lost=("training",), kept=("forward", "backward", "backprop", "nn", "stretch")),
    Mutant("train_records_loss_after_update", "train.py",
           "losses.append(loss.data)", "losses.append(mse_loss([model(x) for x in xs], ys).data)",
           lost=("training",), kept=("forward", "backward", "backprop", "nn", "stretch")),
]
BY_NAME = {mutant.name: mutant for mutant in MUTANTS}


def build(mutant: Mutant, folder: Path) -> Path:
    """Copy the reference package to folder/<name> and apply the mutant's patch."""
    package = folder / mutant.name
    shutil.copytree(REPO / "solutions", package, ignore=shutil.ignore_patterns("__pycache__"))
    source = (package / mutant.file).read_text(encoding="utf-8")
    found = source.count(mutant.old)
    assert found == 1, f"{mutant.name}: its patch matches {found} places in {mutant.file}, not 1"
    (package / mutant.file).write_text(source.replace(mutant.old, mutant.new), encoding="utf-8")
    return package


@pytest.fixture(scope="module")
def graded(grader, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Future]:
    """Every mutant, graded on its stated sections, two at a time."""
    folder = tmp_path_factory.mktemp("mutants")
    return {mutant.name: grader.submit(build(mutant, folder), *section_args(mutant))
            for mutant in MUTANTS}


def section_args(mutant: Mutant) -> list[str]:
    return [arg for s in SECTIONS if s in mutant.lost + mutant.kept for arg in ("--section", s)]


def test_the_catalogue_states_every_section_once_per_mutant() -> None:
    assert len(MUTANTS) >= 15 and len(BY_NAME) == len(MUTANTS)
    for mutant in MUTANTS:
        assert mutant.lost, mutant.name
        assert sorted(mutant.lost + mutant.kept) == sorted(SECTIONS), mutant.name


@pytest.mark.parametrize("name", list(BY_NAME))
def test_mutant_loses_points_only_where_its_bug_is(graded: dict[str, Future], name: str) -> None:
    mutant = BY_NAME[name]
    run = graded[name].result()
    assert run.returncode == 0, run.stderr
    scores = {s["id"]: (s["score"], s["max_score"]) for s in run.report["sections"]}
    assert sorted(scores) == sorted(mutant.lost + mutant.kept)
    assert {s for s in mutant.lost if scores[s][0] == scores[s][1]} == set(), scores
    assert {s for s in mutant.kept if scores[s][0] != scores[s][1]} == set(), [
        t["feedback"] for s in run.report["sections"] if s["id"] in mutant.kept
        for t in s["tests"] if t["status"] != "passed"]
    assert run.report["errors"] == []
