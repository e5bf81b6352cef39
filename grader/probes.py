"""Probes: what the suites ask of a submission, and the parsed answers.

A probe is a plain-JSON request (a graph of ops over leaves, or a model with given parameters)
that the worker runs through the public API and that the oracle runs in torch. Replies from
both are parsed here into frozen dataclasses of floats; nothing else reaches a comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from grader.worker import ProtocolError, Worker

Number = float | str
"""A parsed number, or a short description of what the submission gave instead."""


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
class StudentError:
    """An exception raised by the submission, as the worker described it."""

    type: str
    """Exception class name."""
    message: str
    """Its message (truncated)."""
    file: str | None
    """The student's file (or notebook cell) where it was raised, if it was theirs."""
    line: int | None
    """Line number in that file."""
    code: str | None
    """The source line."""
    task: str | None
    """The task id of a stub's NotImplementedError ("2.4")."""

    def __str__(self) -> str:
        where = f" at {self.file}:{self.line}" if self.file else ""
        code = f" (`{self.code}`)" if self.code else ""
        return f"{self.type}{where}{code}: {self.message}"


class SubmissionError(Exception):
    """The submission raised, was missing something, or could not be imported."""

    def __init__(self, error: StudentError, step: str, blocked: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.step = step
        self.blocked = blocked


@dataclass(frozen=True)
class PassResult:
    """Every node's data and (after backward) grad, in node order."""

    data: tuple[Number, ...]
    grad: tuple[Number, ...] | None


@dataclass(frozen=True)
class ModelResult:
    """What a Neuron/Layer/MLP probe measured; None where the mode did not ask for it."""

    param_count: int
    outputs: tuple[Number, ...] | None = None
    output_shape: tuple[str, ...] | None = None
    grads: tuple[Number, ...] | None = None
    input_grads: tuple[tuple[Number, ...], ...] | None = None
    losses: tuple[Number, ...] | None = None
    params: tuple[Number, ...] | None = None


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
    """`n = leaves[0]`, then `n = n <op> leaf` for every other leaf, then `n.backward()`."""

    op: str
    """add or mul."""
    leaves: tuple[float, ...]

    def request(self) -> dict:
        return {"probe": "chain", "op": self.op, "leaves": list(self.leaves)}


@dataclass(frozen=True)
class ChainResult:
    """The chain's end value and every leaf's grad."""

    root: Number
    grads: tuple[Number, ...]


def parse_chain(reply: dict) -> ChainResult:
    return ChainResult(root=_number(reply.get("root")), grads=_numbers(reply.get("grads")))


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


# ---- running probes on the worker, parsing replies ----------------------------------------


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


def parse_passes(reply: dict, graph: Graph) -> list[PassResult]:
    passes = _list(reply.get("passes"), "passes")
    results = []
    for spec, item in zip(graph.passes, passes, strict=False):  # counted below
        if not isinstance(item, dict):
            raise ProtocolError("a pass reply was not an object")
        if item.get("error") is not None:
            raise SubmissionError(parse_error(item["error"]), str(item.get("step")))
        count = len(graph.leaves) + len(spec.nodes)
        data = _numbers(item.get("data"), count)
        grad = None if spec.root is None else _numbers(item.get("grad"), count)
        results.append(PassResult(data, grad))
    if len(results) != len(graph.passes):
        raise ProtocolError("the reply has fewer passes than the request")
    return results


def run_model(worker: Worker, model: Model, timeout_s: float | None = None) -> ModelResult:
    return parse_model(ask(worker, model.request(), timeout_s), model)


def parse_model(reply: dict, model: Model) -> ModelResult:
    """Parse a model reply; a field the probe's mode needs must be there (when the parameter
    count matched and the parameters could be copied in)."""

    def opt(key: str) -> tuple[Number, ...] | None:
        return None if reply.get(key) is None else _numbers(reply[key])

    input_grads = reply.get("input_grads")
    shape = reply.get("output_shape")
    result = ModelResult(
        param_count=_int(reply.get("param_count")),
        outputs=opt("outputs"),
        output_shape=None if shape is None else tuple(str(s) for s in _list(shape, "shape")),
        grads=opt("grads"),
        input_grads=None
        if input_grads is None
        else tuple(_numbers(row) for row in _list(input_grads, "input_grads")),
        losses=opt("losses"),
        params=opt("params"),
    )
    if model.params is not None and result.param_count == len(model.params):
        needed = ["outputs", "output_shape"] + {
            "backward": ["grads"] + (["input_grads"] if model.value_inputs else []),
            "zero_grad": ["grads"],
            "train": ["losses", "params"],
        }.get(model.mode, [])
        missing = [key for key in needed if getattr(result, key) is None]
        if missing:
            raise ProtocolError(f"the model reply has no {', '.join(missing)}")
        if len(result.output_shape or ()) != len(model.inputs):
            raise ProtocolError("the model reply has no output shape for some inputs")
    return result


@dataclass(frozen=True)
class MseResult:
    """mse_loss's value and the gradients of predictions (and of Value targets)."""

    loss: Number
    grads: tuple[Number, ...]
    target_grads: tuple[Number, ...] | None


def parse_mse(reply: dict) -> MseResult:
    target_grads = reply.get("target_grads")
    return MseResult(
        loss=_number(reply.get("loss")),
        grads=_numbers(reply.get("grads")),
        target_grads=None if target_grads is None else _numbers(target_grads),
    )


def parse_error(raw: object) -> StudentError:
    if not isinstance(raw, dict):
        raise ProtocolError("an error description was not an object")

    def text(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else printable(str(value)[:500])

    line = raw.get("line")
    return StudentError(
        type=text("type") or "Error",
        message=text("message") or "",
        file=text("file"),
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        code=text("code"),
        task=text("task"),
    )


def _list(value: object, what: str) -> list:
    if not isinstance(value, list):
        raise ProtocolError(f"the reply's {what} was not a list")
    return value


def parse_numbers(value: object) -> tuple[Number, ...]:
    """A number or a list of numbers from a reply, as a tuple."""
    return _numbers(value if isinstance(value, list) else [value])


def _numbers(value: object, count: int | None = None) -> tuple[Number, ...]:
    items = _list(value, "numbers")
    if count is not None and len(items) != count:
        raise ProtocolError(f"expected {count} numbers in the reply, got {len(items)}")
    if all(type(x) is float for x in items):  # the common case, checked in one pass
        return tuple(items)
    return tuple(_number(x) for x in items)


def _number(x: object) -> Number:
    """A float the harness made itself; anything else becomes a description string."""
    if isinstance(x, bool):
        return "<bool>"
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        return printable(x[:40])
    raise ProtocolError("a number in the reply was neither a number nor a description")


def printable(text: str) -> str:
    """The submission's text with line breaks and terminal escapes shown, not obeyed: it cannot
    fake a line of the grader's output."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _int(x: object) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise ProtocolError("a count in the reply was not an integer")
    return x


def is_number(x: Number) -> bool:
    return isinstance(x, float) and not math.isnan(x)


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
