"""The mutant catalogue: realistic student mistakes, each a one-spot patch of the reference.

`python -m grader check` and the test suite grade every mutant: it must lose points in the
sections of the task its bug is in (`loses`), keep full marks in every other section (`keeps`),
and the first thing the student is told to fix must be that task (`task`). docs/grading.md
explains why a bug costs points only where it is, and the few cases that cannot be separated.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

ALL_SECTIONS = ("forward", "backward", "backprop", "nn", "training")


@dataclass(frozen=True)
class Mutant:
    """One bug: replace `old` (found exactly once) by `new` in one file of the reference."""

    name: str
    """What the student got wrong, as a file name (`tanh_backward_uses_input`)."""
    file: str
    """engine.py, nn.py or train.py."""
    old: str
    new: str
    task: str
    """The task the bug is in: the first entry of "What to fix"."""
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
        "2.1",
        ("backward",),
    ),  # a bias is reused across samples through +
    Mutant(
        "mul_backward_overwrites_grad",
        "engine.py",
        "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
        "2.2",
        ("backward",),
    ),
    Mutant(
        "tanh_backward_uses_input",
        "engine.py",
        "self.grad += (1 - out.data**2) * out.grad",
        "self.grad += (1 - self.data**2) * out.grad",
        "2.4",
        ("backward",),
    ),
    Mutant(
        "pow_backward_off_by_one",
        "engine.py",
        "self.grad += k * self.data ** (k - 1) * out.grad",
        "self.grad += k * self.data**k * out.grad",
        "2.3",
        ("backward",),
    ),
    Mutant(
        "exp_backward_uses_input",
        "engine.py",
        "self.grad += out.data * out.grad\n",
        "self.grad += self.data * out.grad\n",
        "2.5",
        ("backward",),
    ),
    Mutant(
        "log_backward_divides_by_output",
        "engine.py",
        "self.grad += out.grad / self.data",
        "self.grad += out.grad / out.data",
        "2.7",
        ("backward",),
    ),
    Mutant(
        "relu_backward_ignores_sign",
        "engine.py",
        "if self.data > 0:\n                self.grad += out.grad",
        "self.grad += out.grad",
        "2.6",
        ("backward",),
    ),
    Mutant(
        "rsub_backwards",
        "engine.py",
        "return -self + other  # b - a == (-a) + b",
        "return self - other",
        "1.11",
        ("forward",),
    ),
    Mutant(
        "backward_in_forward_order",
        "engine.py",
        "for node in reversed(topo):",
        "for node in topo:",
        "3.1",
        ("backprop",),
    ),
    Mutant(
        "no_visited_set",
        "engine.py",
        "elif node not in visited:",
        "else:",
        "3.1",
        ("backprop",),
    ),
    Mutant(
        "recursive_topological_sort",
        "engine.py",
        "        stack: list[Value | None] = [self]\n",
        RECURSIVE_TOPO + "        stack: list[Value | None] = []\n",
        "3.1",
        ("backprop",),
    ),
    Mutant(
        "neuron_forgets_bias",
        "nn.py",
        "zip(self.w, x, strict=True)), self.b)",
        "zip(self.w, x, strict=True)), Value(0.0))",
        "4.2",
        ("nn",),
    ),
    Mutant(
        "parameters_bias_first",
        "nn.py",
        "return self.w + [self.b]",
        "return [self.b] + self.w",
        "4.3",
        ("nn",),
    ),
    Mutant(
        "layer_always_returns_list",
        "nn.py",
        "return outs[0] if len(outs) == 1 else outs",
        "return outs",
        "4.4",
        ("nn", "training"),
    ),
    Mutant("zero_grad_zeroes_data", "nn.py", "p.grad = 0.0", "p.data = 0.0", "4.1", ("nn",)),
    Mutant(
        "mse_sums_instead_of_mean",
        "train.py",
        "return sum(squared_errors, Value(0.0)) / len(squared_errors)",
        "return sum(squared_errors, Value(0.0))",
        "5.1",
        ("training",),
    ),
    Mutant(
        "train_forgets_zero_grad",
        "train.py",
        "        model.zero_grad()\n",
        "",
        "5.2",
        ("training",),
    ),
    Mutant(
        "learning_step_climbs_gradient",
        "train.py",
        "            p.data -= lr * p.grad\n",
        "            p.data += lr * p.grad\n",
        "5.2",
        ("training",),
    ),
)
