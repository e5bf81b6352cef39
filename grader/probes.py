"""Probes: what the suites ask of a submission, as plain-JSON requests.

A probe is a graph of ops over leaves, a long chain, a model with given parameters, or a loss,
that the worker runs through the public API and that the oracle runs in torch. Both answers are
parsed by grader/replies.py; nothing else reaches a comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.replies import (
    ModelResult,
    PassResult,
    SubmissionError,
    parse_error,
    parse_model,
    parse_passes,
)
from grader.worker import Worker


@dataclass(frozen=True)
class Node:
    """One op in a graph: `op` applied to node indices or constants."""

    op: str
    """add, sub, mul, div, neg, pow, tanh, exp, relu or log."""
    args: tuple[int | float, ...]
    """Node indices (ints) and constants (floats, or the int exponent of pow)."""
    const_args: tuple[bool, ...] = ()
    """Which args are constants rather than node indices."""

    def request(self) -> list:
        consts = self.const_args or (False,) * len(self.args)
        return [self.op] + [
            {"const": a} if c else a for a, c in zip(self.args, consts, strict=True)
        ]


@dataclass(frozen=True)
class Pass:
    """Nodes built over the graph's leaves, then `backward()` from `root` (None: forward only)."""

    nodes: tuple[Node, ...]
    """The new nodes, numbered after the leaves in order of creation (a topological order)."""
    root: int | None
    """The node whose backward() is called."""


@dataclass(frozen=True)
class Graph:
    """Leaves shared by one or more passes (grads of leaves accumulate across passes)."""

    leaves: tuple[float, ...]
    """The leaves' data; ints stay ints so that Value(int) is exercised."""
    passes: tuple[Pass, ...]
    """Built and back-propagated in order."""
    names: tuple[str, ...] = ()
    """Names for leaves in messages (x, y, a, b); others are called n0, n1, ..."""

    def request(self) -> dict:
        return {
            "probe": "graph",
            "leaves": list(self.leaves),
            "passes": [
                {"nodes": [n.request() for n in p.nodes], "root": p.root} for p in self.passes
            ],
        }

    def name(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else f"n{index}"


@dataclass(frozen=True)
class Model:
    """A model built by the submission with its parameters replaced by `params`."""

    kind: str
    """Neuron, Layer or MLP."""
    args: tuple
    """Constructor arguments (nin, nout/nouts)."""
    kwargs: dict = field(default_factory=dict, hash=False)
    """activation / output_activation."""
    params: tuple[float, ...] | None = None
    """Copied into parameters() in order; None only counts the parameters."""
    inputs: tuple[tuple[float, ...], ...] = ()
    """Each a list of numbers fed to the model."""
    mode: str = "forward"
    """forward, backward (of the sum of outputs), zero_grad (after backward) or train."""
    value_inputs: bool = False
    """Feed inputs as Values (and report their grads)."""
    targets: tuple[float, ...] = ()
    """Training targets (train mode)."""
    steps: int = 0
    """Training steps (train mode)."""
    lr: float = 0.0
    """Learning rate (train mode)."""

    def request(self) -> dict:
        return {
            "probe": "model",
            "kind": self.kind,
            "args": list(self.args),
            "kwargs": dict(self.kwargs),
            "seed": 0,
            "params": None if self.params is None else list(self.params),
            "inputs": [list(x) for x in self.inputs],
            "targets": list(self.targets),
            "mode": self.mode,
            "value_inputs": self.value_inputs,
            "train_kwargs": {"steps": self.steps, "lr": self.lr} if self.mode == "train" else {},
        }


@dataclass(frozen=True)
class Chain:
    """`n = leaves[0]`, then `n = n + leaf` for every other leaf, then `n.backward()`."""

    leaves: tuple[float, ...]

    def request(self) -> dict:
        return {"probe": "chain", "leaves": list(self.leaves)}


@dataclass(frozen=True)
class Mse:
    """mse_loss(predictions, targets) and its backward."""

    predictions: tuple[float, ...]
    targets: tuple[float, ...]
    value_targets: bool = False

    def request(self) -> dict:
        return {
            "probe": "mse",
            "predictions": list(self.predictions),
            "targets": list(self.targets),
            "value_targets": self.value_targets,
        }


# ---- running probes on the worker ------------------------------------------------------


def ask(worker: Worker, request: dict, timeout_s: float | None = None) -> dict:
    """Send a request; raise SubmissionError for the submission's errors, return the rest."""
    load = worker.load()
    if load.get("import_error"):
        raise SubmissionError(parse_error(load["import_error"]), "import", blocked=True)
    reply = worker.request(request, timeout_s)
    if reply.get("error") is not None:
        blocked = reply.get("where") == "blocked"
        raise SubmissionError(parse_error(reply["error"]), str(reply.get("where")), blocked)
    return reply


def run_graph(worker: Worker, graph: Graph, timeout_s: float | None = None) -> list[PassResult]:
    """Each pass's result; a pass in which the submission raised raises SubmissionError."""
    reply = ask(worker, graph.request(), timeout_s)
    return parse_passes(reply, graph)


def run_model(worker: Worker, model: Model, timeout_s: float | None = None) -> ModelResult:
    return parse_model(ask(worker, model.request(), timeout_s), model)


# ---- graph builders for the suites --------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """A plain number operand (as in `2 * v` or `v ** 3`), not a leaf Value."""

    value: float


def op_graph(op: str, *operands: float | Const, backward: bool = True) -> Graph:
    """`out = op(operands)`, leaves named x (unary) or a, b (binary); backward from `out`."""
    leaves = tuple(o for o in operands if not isinstance(o, Const))
    names = ("x",) if len(leaves) == 1 else ("a", "b")[: len(leaves)]
    args, const_args, next_leaf = [], [], 0
    for operand in operands:
        if isinstance(operand, Const):
            args.append(operand.value)
            const_args.append(True)
        else:
            args.append(next_leaf)
            const_args.append(False)
            next_leaf += 1
    node = Node(op, tuple(args), tuple(const_args))
    root = len(leaves) if backward else None
    return Graph(leaves, (Pass((node,), root),), names=names[: len(leaves)] + ("out",))


def operands_text(graph: Graph, *operands: float | Const) -> str:
    """`x=0.5` or `a=2, b=-3` for messages; constants are shown in the expression instead."""
    leaves = [o for o in operands if not isinstance(o, Const)]
    return ", ".join(f"{graph.name(i)}={value:g}" for i, value in enumerate(leaves))


class Builder:
    """Build a Graph node by node: `b.op("mul", a, Const(2))` returns the new node's index."""

    def __init__(self, *leaves: float, names: tuple[str, ...] = ()) -> None:
        self.leaves = leaves
        self.names = names
        self.passes: list[Pass] = []
        self.nodes: list[Node] = []

    def op(self, op: str, *operands: int | Const) -> int:
        args = tuple(o.value if isinstance(o, Const) else o for o in operands)
        self.nodes.append(Node(op, args, tuple(isinstance(o, Const) for o in operands)))
        return len(self.leaves) + len(self.nodes) - 1

    def backward(self, root: int | None = None) -> None:
        """End this pass with backward() from `root` (default: the last node)."""
        if root is None:
            root = len(self.leaves) + len(self.nodes) - 1
        self.passes.append(Pass(tuple(self.nodes), root))
        self.nodes = []

    def graph(self) -> Graph:
        return Graph(tuple(self.leaves), tuple(self.passes), self.names)
