"""Compare a submission's numbers with torch's and say, in words, what differs and where.

Tolerances: an analytic float64 implementation matches torch to about 1e-15 relative, even
after 100 training steps with copied weights. Measured: the reference, an engine with other
internals (tests/fixtures) and set-based lecture micrograd all score full marks at RTOL = 1e-13.
Central finite differences are off by about 1e-11 (rounding error / h, h = 1e-5) or more.
RTOL = 1e-12 keeps a 10x margin for correct backprop and fails numerical differentiation.

For a graph, data is compared in topological order (the first wrong value is where a forward
pass goes wrong) and grads from the root down (the first wrong grad is where a local derivative
goes wrong: every node above it is right).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from grader.probes import SYMBOLS, Graph
from grader.protocol import Number, PassResult

RTOL = 1e-12
"""Relative tolerance for every comparison."""
ATOL = 1e-12
"""Absolute tolerance, for values that should be (near) zero."""
MAX_DRAWN_NODES = 300
"""Larger graphs carry no node lists in a failure's details (the page could not show them)."""

RULES = {
    "add": "d(a + b)/da = 1 and d(a + b)/db = 1",
    "sub": "d(a - b)/da = 1 and d(a - b)/db = -1",
    "mul": "d(a * b)/da = b and d(a * b)/db = a",
    "div": "d(a / b)/da = 1/b and d(a / b)/db = -a/b^2",
    "neg": "d(-a)/da = -1",
    "pow": "d(x^k)/dx = k * x^(k-1)",
    "tanh": "d tanh(x)/dx = 1 - tanh(x)^2",
    "exp": "d exp(x)/dx = exp(x)",
    "relu": "d relu(x)/dx = 1 if x > 0 else 0",
    "log": "d log(x)/dx = 1/x",
}
UPSTREAM = "each input's grad gets d(out)/d(input) * out.grad, added with +="


@dataclass(frozen=True)
class Mismatch:
    """The first number that differs: which, expected, got."""

    label: str
    """What the number is, e.g. `x.grad` or `output 3`."""
    expected: float
    got: Number
    index: int
    """Its position in the compared sequence."""

    def __str__(self) -> str:
        return self.text("torch")

    def text(self, source: str) -> str:
        expected, got = show_pair(self.expected, self.got)
        return f"expected {self.label}={expected} ({source}), got {got}"


def close(got: Number, expected: Number) -> bool:
    if not isinstance(got, float) or not isinstance(expected, float):
        return got == expected
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    if math.isinf(expected) or math.isinf(got):
        return got == expected
    return abs(got - expected) <= ATOL + RTOL * abs(expected)


def first_mismatch(
    label: Callable[[int], str],
    got: tuple[Number, ...],
    expected: tuple[Number, ...],
    order: range | None = None,
) -> Mismatch | None:
    """The first position (in `order`, default first to last) where `got` differs; `label(i)`
    names position i in the message."""
    for i in order if order is not None else range(len(expected)):
        g, e = got[i], expected[i]
        if g != e and not close(g, e):
            return Mismatch(label(i), e if isinstance(e, float) else math.nan, g, i)
    return None


def show_pair(expected: float, got: Number) -> tuple[str, str]:
    """Format two numbers with just enough digits to see that they differ."""
    if not isinstance(got, float):
        return show(expected), f"a {got.strip('<>')} instead of a number"
    for digits in (4, 6, 8, 10, 12, 17):
        e, g = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if e != g:
            return e, g
    return f"{expected:.17g}", f"{got:.17g}"


def show(x: float) -> str:
    return f"{x:.6g}"


def node_text(graph: Graph, index: int, pass_index: int = 0) -> str:
    """How a node was made, e.g. `n4 = tanh(n3)` or `a` for a leaf."""
    if index < len(graph.leaves):
        return graph.name(index)
    return f"{graph.name(index)} = {expression(graph, index, pass_index)}"


def expression(graph: Graph, index: int, pass_index: int = 0, exact: bool = False) -> str:
    """The op that made a node, over its inputs' names: `a * b`, `x.tanh()`, `x ** 3`;
    `exact`: constants as Python reads them back."""
    node = graph.passes[pass_index].nodes[index - len(graph.leaves)]
    consts = node.const_args or (False,) * len(node.args)
    operands = [
        (repr(a) if exact else show(a)) if c else graph.name(int(a))
        for a, c in zip(node.args, consts, strict=True)
    ]
    if node.op in SYMBOLS:
        return f" {SYMBOLS[node.op]} ".join(operands)
    if node.op == "neg":
        return f"-{operands[0]}"
    return f"{operands[0]}.{node.op}()"


@dataclass(frozen=True)
class GraphMismatch:
    """Where a graph's result first differs, with what the page and `explain` show of it."""

    message: str
    """One sentence: the node, expected, got (and which backward() when there are several)."""
    pass_index: int
    node: int
    field: str
    local: dict | None
    """At a wrong grad: the local derivative that goes wrong there (see `local_derivative`)."""


def graph_values(
    graph: Graph,
    got: list[PassResult],
    expected: list[PassResult],
    field: str,
    nodes: int | None = None,
) -> GraphMismatch | None:
    """The first node whose data (topological order) or grad (from the root down) differs,
    among the first `nodes` reported nodes if given."""
    for pass_index, (g, e) in enumerate(zip(got, expected, strict=True)):
        got_values, expected_values = getattr(g, field), getattr(e, field)
        if expected_values is None:
            continue
        if got_values is None:
            got_values = ("<missing>",) * len(expected_values)
        count = len(expected_values) if nodes is None else min(nodes, len(expected_values))
        order = range(count) if field == "data" else range(count - 1, -1, -1)
        mismatch = first_mismatch(
            lambda i: f"{reported_name(graph, i)}.{field}",
            got_values,
            expected_values,
            order,
        )
        if mismatch is None:
            continue
        where = "" if len(got) == 1 else f" after backward() of graph {pass_index + 1}"
        index = graph.report[mismatch.index] if graph.report is not None else mismatch.index
        text = f"{mismatch}{where}"
        if index >= len(graph.leaves):
            text += f" (node {node_text(graph, index, pass_index)})"
        local = None
        if field == "grad" and graph.report is None:
            local = local_derivative(graph, pass_index, index, g, e)
        return GraphMismatch(text, pass_index, index, field, local)
    return None


def reported_name(graph: Graph, position: int) -> str:
    return graph.name(graph.report[position] if graph.report is not None else position)


def users(graph: Graph, pass_index: int, index: int) -> list[tuple[int, int]]:
    """(user node, argument position) for every use of node `index` in a pass."""
    found = []
    first = len(graph.leaves)
    for offset, node in enumerate(graph.passes[pass_index].nodes):
        consts = node.const_args or (False,) * len(node.args)
        for position, (arg, const) in enumerate(zip(node.args, consts, strict=True)):
            if not const and int(arg) == index:
                found.append((first + offset, position))
    return found


def local_derivative(
    graph: Graph, pass_index: int, index: int, got: PassResult, expected: PassResult
) -> dict | None:
    """At a node whose grad is wrong while its one user's grad is right: the student's
    d(user)/d(node) next to torch's, and a guess at the rule used (`1 - x^2`)."""
    uses = users(graph, pass_index, index)
    if len(uses) != 1 or got.grad is None or expected.grad is None:
        return None
    user, position = uses[0]
    node = graph.passes[pass_index].nodes[user - len(graph.leaves)]
    upstream = expected.grad[user]
    mine, theirs = got.grad[index], expected.grad[index]
    if not (isinstance(upstream, float) and isinstance(mine, float) and upstream != 0):
        return None
    if isinstance(theirs, float):
        theirs = theirs / upstream
    x = expected.data[index]
    out = expected.data[user]
    other = _other_operand(graph, node, position, expected)
    yours = mine / upstream
    return {
        "node": user,
        "op": node.op,
        "wrt": index,
        "x": x,
        "upstream": upstream,
        "yours": yours,
        "torch": theirs,
        "rule": RULES.get(node.op, ""),
        "guess": guess(node.op, x, out, other, node, yours, mine, theirs, upstream),
    }


def _other_operand(graph: Graph, node, position: int, expected: PassResult) -> float | None:
    if len(node.args) != 2:
        return None
    consts = node.const_args or (False,) * len(node.args)
    arg, const = node.args[1 - position], consts[1 - position]
    value = arg if const else expected.data[int(arg)]
    return float(value) if isinstance(value, (int, float)) else None


def guess(op, x, out, other, node, yours, mine, theirs, upstream) -> str | None:
    """A common wrong rule that gives the student's number, if one does."""
    if not all(isinstance(v, float) for v in (x, out, yours, mine, theirs)):
        return None
    k = node.args[1] if op == "pow" else 0
    formulas: dict[str, list[tuple[str, Callable[[], float]]]] = {
        "tanh": [
            ("1 - x^2 (the input, not tanh(x))", lambda: 1 - x * x),
            ("1 - tanh(x) (not squared)", lambda: 1 - out),
            ("tanh(x)^2", lambda: out * out),
        ],
        "exp": [("x (the input, not exp(x))", lambda: x)],
        "log": [("1/log(x) (the output, not x)", lambda: 1 / out), ("x (not 1/x)", lambda: x)],
        "pow": [
            ("k * x^k (off by one)", lambda: k * x**k),
            ("x^(k-1) (no factor k)", lambda: x ** (k - 1)),
            ("k * |x|^(k-1) (abs(x) loses the sign for x < 0)", lambda: k * abs(x) ** (k - 1)),
        ],
        "relu": [("1 at x <= 0 (torch uses 0 there)", lambda: 1.0)],
        "mul": [("the input itself, not the other operand", lambda: x)],
    }
    for name, formula in formulas.get(op, []):
        try:
            value = formula()
        except (ArithmeticError, ValueError, TypeError):
            continue
        if isinstance(value, float) and math.isfinite(value) and close(mine, value * upstream):
            return f"you used {name}"
    if upstream != 1 and close(mine, theirs):
        return "you forgot to multiply by out.grad"
    if close(mine, -theirs * upstream):
        return "the sign is flipped"
    if mine == 0.0:
        return "no gradient reached this input"
    return None


def details(
    graph: Graph,
    got: list[PassResult],
    expected: list[PassResult],
    mismatch: GraphMismatch | None,
) -> dict:
    """The failing graph as the feedback page draws it (node lists only for small graphs)."""
    small = graph.size() <= MAX_DRAWN_NODES and graph.report is None
    passes = []
    for index, spec in enumerate(graph.passes):
        g = got[index] if index < len(got) else None
        e = expected[index] if index < len(expected) else None
        passes.append(
            {
                "nodes": [{"op": n.op, "args": n.request()[1:]} for n in spec.nodes]
                if small
                else [],
                "root": spec.root,
                "data": {
                    "got": list(g.data) if g and small else None,
                    "expected": list(e.data) if e and small else None,
                },
                "grad": {
                    "got": list(g.grad) if g and g.grad is not None and small else None,
                    "expected": list(e.grad) if e and e.grad is not None and small else None,
                },
            }
        )
    return {
        "kind": "graph",
        "names": [graph.name(i) for i in range(graph.size())] if small else [],
        "leaves": list(graph.leaves) if small else [],
        "passes": passes,
        "first_wrong": None
        if mismatch is None
        else {"pass": mismatch.pass_index, "node": mismatch.node, "field": mismatch.field},
        "local": None if mismatch is None else mismatch.local,
        "reproduce": reproduce(graph, expected, mismatch) if small else None,
    }


def reproduce(graph: Graph, expected: list[PassResult], mismatch: GraphMismatch | None) -> str:
    """The graph as lines of Python a student can paste to see the difference themselves."""
    lines = ["from exercises import Value  # or your own module", ""]
    for i, leaf in enumerate(graph.leaves):
        lines.append(f"{graph.name(i)} = Value({leaf!r})")
    for pass_index, spec in enumerate(graph.passes):
        for offset in range(len(spec.nodes)):
            index = len(graph.leaves) + offset
            lines.append(
                f"{graph.name(index)} = {expression(graph, index, pass_index, exact=True)}"
            )
        if spec.root is not None:
            root = graph.name(spec.root)
            lines.append(f"{root}.backward()")
        if mismatch is not None and mismatch.pass_index == pass_index:
            name = graph.name(mismatch.node)
            values = getattr(expected[pass_index], mismatch.field)
            want = values[mismatch.node] if values is not None else None
            shown = show(want) if isinstance(want, float) else "?"
            lines.append(f"print({name}.{mismatch.field})  # torch: {shown}")
            break
    return "\n".join(lines)
