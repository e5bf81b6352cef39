"""Probes: what the suites ask of a submission, as plain-JSON requests.

A probe is a graph of ops over leaves, a long chain, a model with given parameters, a loss, or
a training run, that the worker runs through the public API and that the oracle runs in torch.
The answers come back through grader/protocol.py; nothing else reaches a comparison.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache, cached_property

SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


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
        if not any(self.const_args):
            return [self.op, *self.args]
        return [self.op] + [
            {"const": a} if c else a for a, c in zip(self.args, self.const_args, strict=True)
        ]

    def inputs(self) -> list[int]:
        """The node indices among the args."""
        consts = self.const_args or (False,) * len(self.args)
        return [int(a) for a, c in zip(self.args, consts, strict=True) if not c]


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
    reseed: bool = True
    """When backward() leaves the root's grad other than 1.0, run it again from root.grad = 1.0,
    so that a backward() that forgets the root is charged only where that is checked
    (backprop's root-grad test), not in every rule."""
    report: tuple[int, ...] | None = None
    """The nodes whose data and grad come back (None: all)."""

    def request(self) -> dict:
        return dict(self._request)  # the caller may add keys; the nodes are shared

    @cached_property
    def _request(self) -> dict:
        """Built once: a one-pass graph's request is sent, and keys its expectation."""
        return {
            "probe": "graph",
            "leaves": list(self.leaves),
            "passes": [
                {"nodes": [n.request() for n in p.nodes], "root": p.root} for p in self.passes
            ],
            "reseed": self.reseed,
            "report": None if self.report is None else list(self.report),
        }

    def name(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else f"n{index}"

    def count(self, pass_index: int) -> int:
        """How many nodes the reply reports for a pass."""
        if self.report is not None:
            return len(self.report)
        return len(self.leaves) + len(self.passes[pass_index].nodes)

    def expect(self) -> dict:
        """What the reply must hold: per pass, how many nodes, and whether grads too."""
        return {"passes": [(self.count(i), p.root is not None) for i, p in enumerate(self.passes)]}

    def ops(self) -> set[str]:
        return {node.op for p in self.passes for node in p.nodes}

    def size(self) -> int:
        return len(self.leaves) + sum(len(p.nodes) for p in self.passes)


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

    def outputs_per_input(self) -> int:
        """The last layer's size: each input gives that many outputs."""
        if self.kind == "Neuron":
            return 1
        return self.args[1] if self.kind == "Layer" else self.args[1][-1]

    def expect(self, param_count: int) -> dict:
        """What a reply must hold once the submission's parameter count is the contract's."""
        rows = len(self.inputs)
        expect: dict = {"outputs": rows * self.outputs_per_input(), "output_shape": rows}
        if self.mode in ("backward", "zero_grad"):
            expect["grads"] = param_count
        if self.mode == "backward" and self.value_inputs:
            expect["input_grads"] = (rows, len(self.inputs[0]))
        if self.mode == "train":
            expect.update(losses=self.steps, params=param_count)
        return expect


@dataclass(frozen=True)
class TrainCheck:
    """train() against the contract's steps done with the student's own model, loss and
    backward(): one run by the grader, one by train(), each on a model built after the same
    seed (nothing copied in)."""

    model: Model
    """The model (kind, args, kwargs), data, steps and lr; its params are not used."""

    def request(self) -> dict:
        return {**self.model.request(), "probe": "train_check"}


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


# ---- graph builders for the suites --------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """A plain number operand (as in `2 * v` or `v ** 3`), not a leaf Value."""

    value: float


class Builder:
    """Build a Graph node by node: `b.op("mul", a, Const(2))` returns the new node's index."""

    def __init__(self, *leaves: float, names: tuple[str, ...] = ()) -> None:
        self.leaves = leaves
        self.names = list(names)
        self.passes: list[Pass] = []
        self.nodes: list[Node] = []

    def op(self, op: str, *operands: int | Const, name: str | None = None) -> int:
        args = tuple([o.value if isinstance(o, Const) else o for o in operands])
        self.nodes.append(Node(op, args, tuple([isinstance(o, Const) for o in operands])))
        index = len(self.leaves) + len(self.nodes) - 1
        if name is not None:
            self.names += [f"n{i}" for i in range(len(self.names), index)] + [name]
        return index

    def backward(self, root: int | None = None) -> None:
        """End this pass with backward() from `root` (default: the last node)."""
        if root is None:
            root = len(self.leaves) + len(self.nodes) - 1
        self.passes.append(Pass(tuple(self.nodes), root))
        self.nodes = []

    def forward_only(self) -> None:
        self.passes.append(Pass(tuple(self.nodes), None))
        self.nodes = []

    def graph(self, **options) -> Graph:
        return Graph(tuple(self.leaves), tuple(self.passes), tuple(self.names), **options)


def op_graph(
    op: str, *operands: float | Const, backward: bool = True, upstream: float | None = None
) -> Graph:
    """`out = op(operands)`, leaves named x (unary) or a, b (binary); backward from `out`, or,
    with `upstream`, from `y = out * c` where c is a leaf Value holding `upstream`."""
    leaves = [o for o in operands if not isinstance(o, Const)]
    names = ["x"] if len(leaves) == 1 else ["a", "b"][: len(leaves)]
    if upstream is not None:
        leaves.append(upstream)
        names.append("c")
    b = Builder(*leaves, names=tuple(names))
    positions = iter(range(len(leaves)))
    out = b.op(op, *(o if isinstance(o, Const) else next(positions) for o in operands), name="out")
    if upstream is not None:
        b.op("mul", out, len(leaves) - 1, name="y")
    if backward:
        b.backward()
    else:
        b.forward_only()
    return b.graph()


def derived_graph(op: str, *operands: float | Const) -> Graph:
    """A derived op, or an op with a number on the left, built from primitives as the
    reference builds it: -x = x * -1, a - b = a + b * -1, a / b = a * b ** -1, and
    k - x = x * -1 + k, k / x = x ** -1 * k, k + x = x + k, k * x = x * k."""
    leaves = tuple(o for o in operands if not isinstance(o, Const))
    b = Builder(*leaves)
    if isinstance(operands[0], Const):  # a number on the left of the leaf x (leaf 0)
        k = operands[0]
        inverse = {"sub": ("mul", Const(-1.0)), "div": ("pow", Const(-1))}
        if op in inverse:
            x = b.op(inverse[op][0], 0, inverse[op][1])
            b.op("add" if op == "sub" else "mul", x, k)
        else:
            b.op(op, 0, k)
    elif op == "neg":
        b.op("mul", 0, Const(-1.0))
    elif op == "sub":
        b.op("add", 0, b.op("mul", 1, Const(-1.0)))
    else:  # div
        b.op("mul", 0, b.op("pow", 1, Const(-1)))
    b.backward()
    return b.graph()


def reuse_graph(op: str, x: float, upstream: float | None = None) -> Graph:
    """`out = x op x`: one Value on both sides, so the rule must add both contributions."""
    leaves, names = [x], ["x"]
    if upstream is not None:
        leaves.append(upstream)
        names.append("c")
    b = Builder(*leaves, names=tuple(names))
    out = b.op(op, 0, 0, name="out")
    if upstream is not None:
        b.op("mul", out, 1, name="y")
    b.backward()
    return b.graph()


def shared_input_graph(op: str, x: float, exponent: float | None = None) -> Graph:
    """`y = op(x) + x` (`x ** k + x` for pow): x feeds two nodes, so the op's rule must add
    its contribution to the one + gives (+=), not overwrite it (=)."""
    b = Builder(x, names=("x",))
    out = b.op(op, 0, *(() if exponent is None else (Const(exponent),)), name="out")
    b.op("add", out, 0, name="y")
    b.backward()
    return b.graph()


WIDTH, DEPTH = 32, 30
"""The one-pass graphs: 32 values mixed through 30 layers: 3,900 to 5,800 nodes, 150 deep;
those of + alone and * alone (one node per step) 256 values through 30 layers: 8,191 nodes."""


@cache
def mixing(op: str) -> Graph:
    """A large graph of `op`: each layer mixes pairs of values of the one below (a butterfly),
    so each node feeds many later ones. Values and grads stay positive and moderate; the
    graph of "mul" holds only +-1, so that its products stay exact.

    Every node's grad comes back. Backpropagation gets them all in one pass; a method that
    gets one grad per evaluation of the graph (finite differences, complex steps, forward
    mode) needs as many evaluations as there are nodes, and runs out of time."""
    width, depth = (8 * WIDTH, DEPTH) if op in ("add", "mul") else (WIDTH, DEPTH)
    if op == "mul":
        leaves = [(-1.0) ** (i * i // 3) for i in range(width)]
    else:
        leaves = [round(0.3 + 0.6 * ((i * 0.6180339887498949) % 1), 12) for i in range(width)]
    b = Builder(*leaves)
    level = list(range(width))
    for layer in range(depth):
        stride = 1 << (layer % (width.bit_length() - 1))
        level = [cell(b, op, level[j], level[j ^ stride]) for j in range(width)]
    root = level[0]
    for node in level[1:]:
        root = b.op("add" if op != "mul" else "mul", root, node)
    b.backward()
    return b.graph()


MIXING_OPS = ("add", "mul", "pow", "tanh", "exp", "relu", "log")
"""The ops that have a one-pass graph (the suites' one-pass checks)."""


def build_one_pass_graphs() -> None:
    """Build every one-pass graph and its request now: the batch's fork server does, once,
    so that no entry's grading pays for it."""
    for op in MIXING_OPS:
        mixing(op).request()


def cell(b: Builder, op: str, a: int, other: int) -> int:
    """One mixing step through `op`: values stay between about 0.05 and 2 (+ alone doubles
    them, 2**30 at most; * alone keeps +-1), relu stays on its live side."""
    if op in ("add", "mul"):
        return b.op(op, a, other)
    part, weight, offset = {
        "pow": (lambda: b.op("pow", b.op("add", a, Const(0.5)), Const(2)), 0.25, None),
        "tanh": (lambda: b.op("tanh", a), 0.45, None),
        "exp": (lambda: b.op("exp", b.op("mul", a, Const(0.3))), 0.45, None),
        "relu": (lambda: b.op("relu", b.op("add", a, Const(-0.2))), 0.5, 0.15),
        "log": (lambda: b.op("log", b.op("add", a, Const(1.0))), 0.45, None),
    }[op]
    mixed = b.op("add", b.op("mul", part(), Const(weight)), b.op("mul", other, Const(0.45)))
    return mixed if offset is None else b.op("add", mixed, Const(offset))


def operands_text(graph: Graph, *operands: float | Const) -> str:
    """`x=0.5` or `a=2, b=-3` for messages; constants are shown in the expression instead."""
    leaves = [o for o in operands if not isinstance(o, Const)]
    return ", ".join(f"{graph.name(i)}={value:g}" for i, value in enumerate(leaves))


def seeded(seed: str) -> random.Random:
    """A generator whose draws are the same on every Python and platform (string seeds hash
    with SHA-512 in `random`), so that probes, and the expectations shipped for them, are data."""
    return random.Random(seed)


def layer_sizes(model: Model) -> list[int]:
    """nin, then each layer's size: [3, 4, 4, 1] for MLP(3, [4, 4, 1])."""
    if model.kind == "Neuron":
        return [model.args[0], 1]
    if model.kind == "Layer":
        return [model.args[0], model.args[1]]
    return [model.args[0], *model.args[1]]


def activations(model: Model) -> list[str]:
    """Each layer's activation, as the contract says."""
    count = len(layer_sizes(model)) - 1
    hidden = model.kwargs.get("activation", "tanh")
    if model.kind != "MLP":
        return [hidden]
    return [hidden] * (count - 1) + [model.kwargs.get("output_activation", "tanh")]


def model_graph(model: Model, bias_first: bool = True) -> tuple[Graph, list[int]]:
    """The model's computation written out with Value ops, as docs/api.md describes it, over
    leaves holding its parameters (and its inputs, when they are Values). Run on the student's
    own engine, it says what their Neuron, Layer and MLP should give with their own ops.

    `bias_first`: each neuron sums b + w0*x0 + w1*x1 + ... (as `sum(..., b)` does); otherwise
    w0*x0 + w1*x1 + ... + b. Returns the graph and the output nodes, in order."""
    params = list(model.params or ())
    leaves = params + ([x for row in model.inputs for x in row] if model.value_inputs else [])
    b = Builder(*leaves)
    sizes, acts = layer_sizes(model), activations(model)
    outputs = []
    for row_index, row in enumerate(model.inputs):
        if model.value_inputs:
            first = len(params) + row_index * len(row)
            xs: list = list(range(first, first + len(row)))
        else:
            xs = [Const(x) for x in row]
        offset = 0
        for nin, nout, act in zip(sizes, sizes[1:], acts, strict=False):
            ys = []
            for _ in range(nout):
                weights, bias = range(offset, offset + nin), offset + nin
                offset += nin + 1
                products = [b.op("mul", w, x) for w, x in zip(weights, xs, strict=True)]
                total = bias if bias_first else products.pop(0)
                for term in products + ([] if bias_first else [bias]):
                    total = b.op("add", total, term)
                ys.append(b.op(act, total) if act != "linear" else total)
            xs = ys
        outputs += xs
    if model.mode in ("backward", "zero_grad"):
        total = outputs[0]
        for out in outputs[1:]:
            total = b.op("add", total, out)
        b.backward(total)
    else:
        b.forward_only()
    report = (*outputs, *range(len(leaves)))
    return b.graph(report=report), list(outputs)
