"""The mutant catalogue: realistic student mistakes, each a one-spot patch of the reference.

`python -m grader check` and the test suite grade every mutant: it must lose points in the
sections its bug touches (`loses`) and keep full marks in the sections it cannot touch (`keeps`).
Sections: forward, backward, backprop (uses only + - * and neg), nn, training, stretch.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

ALL_SECTIONS = ("forward", "backward", "backprop", "nn", "training", "stretch")


@dataclass(frozen=True)
class Mutant:
    """One bug: replace `old` (found exactly once) by `new` in one file of the reference."""

    name: str
    """What the student got wrong, as a file name (`tanh_backward_uses_input`)."""
    file: str
    """engine.py, nn.py or train.py."""
    old: str
    new: str
    loses: tuple[str, ...]
    """Sections where the bug must cost points."""

    @property
    def keeps(self) -> tuple[str, ...]:
        """Sections the bug cannot affect: they must keep full marks."""
        return tuple(s for s in ALL_SECTIONS if s not in self.loses)

    def apply(self, solutions: Path, dest: Path) -> Path:
        """Copy the reference package to `dest` with the bug in; return `dest`."""
        shutil.copytree(solutions, dest, ignore=shutil.ignore_patterns("__pycache__"))
        target = dest / self.file
        text = target.read_text(encoding="utf-8")
        if text.count(self.old) != 1:
            raise ValueError(
                f"mutant {self.name}: the text to replace occurs "
                f"{text.count(self.old)} times in {self.file}, not once"
            )
        target.write_text(text.replace(self.old, self.new), encoding="utf-8")
        return dest


RECURSIVE_TOPO = """\
        def build(node: Value) -> None:
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    build(child)
                topo.append(node)

        build(self)
"""

MUTANTS = (
    Mutant(
        "reused_node_overwrites_grad",
        "engine.py",
        "self.grad += out.grad\n            other.grad += out.grad",
        "self.grad = out.grad\n            other.grad = out.grad",
        ("backprop", "nn", "training"),
    ),  # a bias is reused across samples through +
    Mutant(
        "mul_backward_overwrites_grad",
        "engine.py",
        "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
        ("backprop", "nn", "training"),
    ),
    Mutant(
        "tanh_backward_uses_input",
        "engine.py",
        "self.grad += (1 - out.data**2) * out.grad",
        "self.grad += (1 - self.data**2) * out.grad",
        ("backward", "nn", "training"),
    ),
    Mutant(
        "pow_backward_off_by_one",
        "engine.py",
        "self.grad += k * self.data ** (k - 1) * out.grad",
        "self.grad += k * self.data**k * out.grad",
        ("backward", "training"),
    ),
    Mutant(
        "exp_backward_uses_input",
        "engine.py",
        "self.grad += out.data * out.grad\n",
        "self.grad += self.data * out.grad\n",
        ("backward",),
    ),
    Mutant(
        "log_backward_divides_by_output",
        "engine.py",
        "self.grad += out.grad / self.data",
        "self.grad += out.grad / out.data",
        ("backward",),
    ),
    Mutant(
        "relu_backward_ignores_sign",
        "engine.py",
        "if self.data > 0:\n                self.grad += out.grad",
        "self.grad += out.grad",
        ("backward", "nn", "training"),
    ),
    Mutant(
        "rsub_backwards",
        "engine.py",
        "return -self + other  # b - a == (-a) + b",
        "return self - other",
        ("forward", "backward"),
    ),
    Mutant(
        "backward_in_forward_order",
        "engine.py",
        "for node in reversed(topo):",
        "for node in topo:",
        ("backward", "backprop", "nn", "training", "stretch"),
    ),
    Mutant(
        "no_visited_set",
        "engine.py",
        "elif node not in visited:",
        "else:",
        ("backprop", "nn", "training"),
    ),
    Mutant(
        "recursive_topological_sort",
        "engine.py",
        "        stack: list[Value | None] = [self]\n",
        RECURSIVE_TOPO + "        stack: list[Value | None] = []\n",
        ("stretch",),
    ),
    Mutant(
        "neuron_forgets_bias",
        "nn.py",
        "zip(self.w, x, strict=True)), self.b)",
        "zip(self.w, x, strict=True)), Value(0.0))",
        ("nn", "training"),
    ),
    Mutant(
        "parameters_bias_first",
        "nn.py",
        "return self.w + [self.b]",
        "return [self.b] + self.w",
        ("nn", "training"),
    ),
    Mutant(
        "layer_always_returns_list",
        "nn.py",
        "return outs[0] if len(outs) == 1 else outs",
        "return outs",
        ("nn", "training"),
    ),
    Mutant("zero_grad_zeroes_data", "nn.py", "p.grad = 0.0", "p.data = 0.0", ("nn", "training")),
    Mutant(
        "mse_sums_instead_of_mean",
        "train.py",
        "return sum(squared_errors, Value(0.0)) / len(squared_errors)",
        "return sum(squared_errors, Value(0.0))",
        ("training",),
    ),
    Mutant("train_forgets_zero_grad", "train.py", "        model.zero_grad()\n", "", ("training",)),
    Mutant(
        "learning_step_climbs_gradient",
        "train.py",
        "            p.data -= lr * p.grad\n",
        "            p.data += lr * p.grad\n",
        ("training",),
    ),
)
