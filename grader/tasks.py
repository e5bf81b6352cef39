"""The exercise's tasks: ids, what each one is, its section, and the order to fix them in.

The ids are those of the stubs' `NotImplementedError("Task N.M: ...")` and of docs/api.md. A
test checks one task and may rely on earlier ones; `grader/blame.py` uses this table to name the
task that is wrong first.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DERIVED",
    "FORWARD",
    "RULE",
    "TASKS",
    "Task",
    "needs_of_ops",
    "rank",
    "section_of",
    "title",
]


@dataclass(frozen=True)
class Task:
    """One place to fill in."""

    id: str
    """"2.4"."""
    title: str
    """What it is, as the root-cause list says it: "the backward rule of Value.tanh"."""
    section: str
    """The section whose points it earns."""


def _tasks() -> dict[str, Task]:
    rows = [
        ("1.1", "the forward pass of Value.__add__", "forward"),
        ("1.2", "the forward pass of Value.__mul__", "forward"),
        ("1.3", "the forward pass of Value.__pow__", "forward"),
        ("1.4", "the forward pass of Value.tanh", "forward"),
        ("1.5", "the forward pass of Value.exp", "forward"),
        ("1.6", "the forward pass of Value.relu", "forward"),
        ("1.7", "the forward pass of Value.log", "forward"),
        ("1.8", "Value.__neg__", "forward"),
        ("1.9", "Value.__sub__", "forward"),
        ("1.10", "Value.__truediv__", "forward"),
        ("1.11", "the reflected ops (__radd__, __rsub__, __rmul__, __rtruediv__)", "forward"),
        ("2.1", "the backward rule of Value.__add__", "backward"),
        ("2.2", "the backward rule of Value.__mul__", "backward"),
        ("2.3", "the backward rule of Value.__pow__", "backward"),
        ("2.4", "the backward rule of Value.tanh", "backward"),
        ("2.5", "the backward rule of Value.exp", "backward"),
        ("2.6", "the backward rule of Value.relu", "backward"),
        ("2.7", "the backward rule of Value.log", "backward"),
        ("3.1", "Value.backward (topological order, root grad, chain rule)", "backprop"),
        ("4.1", "Module.zero_grad", "nn"),
        ("4.2", "Neuron.__call__", "nn"),
        ("4.3", "Neuron.parameters (and the Neuron's weights-then-bias draw)", "nn"),
        ("4.4", "Layer.__call__", "nn"),
        ("4.5", "Layer.parameters", "nn"),
        ("4.6", "MLP.__call__", "nn"),
        ("4.7", "MLP.parameters", "nn"),
        ("5.1", "mse_loss", "training"),
        ("5.2", "train", "training"),
    ]
    return {id_: Task(id_, title_, section) for id_, title_, section in rows}


TASKS = _tasks()
FORWARD = {
    "add": "1.1",
    "mul": "1.2",
    "pow": "1.3",
    "tanh": "1.4",
    "exp": "1.5",
    "relu": "1.6",
    "log": "1.7",
    "neg": "1.8",
    "sub": "1.9",
    "div": "1.10",
}
"""Op -> the task of its forward pass."""
RULE = {
    "add": "2.1",
    "mul": "2.2",
    "pow": "2.3",
    "tanh": "2.4",
    "exp": "2.5",
    "relu": "2.6",
    "log": "2.7",
    "neg": "1.8",
    "sub": "1.9",
    "div": "1.10",
}
"""Op -> the task its derivative belongs to (derived ops carry no rule of their own)."""
DERIVED = {"neg": ("mul",), "sub": ("add", "neg", "mul"), "div": ("mul", "pow")}
"""Derived op -> the primitives the reference builds it from (a student's may differ)."""


def rank(task: str | None) -> tuple[int, ...]:
    """Sort key: the order in which to fix tasks (1.2 before 1.10; unknown ids last)."""
    if task is None or task not in TASKS:
        return (99,)
    return tuple(int(part) for part in task.split("."))


def title(task: str) -> str:
    return TASKS[task].title if task in TASKS else f"Task {task}"


def section_of(task: str) -> str | None:
    return TASKS[task].section if task in TASKS else None


def needs_of_ops(ops: set[str], *, rules: bool) -> set[str]:
    """The tasks a graph of these ops relies on: forward tasks, and rule tasks if `rules`."""
    needed: set[str] = set()
    for used in ops | {p for op in ops for p in DERIVED.get(op, ())}:
        needed.add(FORWARD[used])
        if rules:
            needed.add(RULE[used])
    return needed
