"""Compare a submission's numbers with torch's and say, in words, what differs.

Tolerances: an analytic float64 implementation matches torch to about 1e-15 relative, even
after 100 training steps with copied weights. Measured: the reference, an engine with other
internals (tests/fixtures) and set-based lecture micrograd all score full marks at RTOL = 1e-13.
Central finite differences are off by about 1e-11 (rounding error / h, h = 1e-5) or more.
RTOL = 1e-12 keeps a 10x margin for correct backprop and fails numerical differentiation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from grader.probes import Graph
from grader.replies import Number, PassResult

RTOL = 1e-12
"""Relative tolerance for every comparison."""
ATOL = 1e-12
"""Absolute tolerance, for values that should be (near) zero."""

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
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


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
        expected, got = show_pair(self.expected, self.got)
        return f"expected {self.label}={expected} (torch), got {got}"


def close(got: Number, expected: float) -> bool:
    if not isinstance(got, float):
        return False
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    if math.isinf(expected) or math.isinf(got):
        return got == expected
    return abs(got - expected) <= ATOL + RTOL * abs(expected)


def first_mismatch(
    label: Callable[[int], str], got: tuple[Number, ...], expected: tuple[Number, ...]
) -> Mismatch | None:
    """The first position (in order: topological for graphs) where `got` differs; `label(i)`
    names position i in the message."""
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        if g != e:
            assert isinstance(e, float), "torch always gives numbers"
            if not close(g, e):
                return Mismatch(label(i), e, g, i)
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
    node = graph.passes[pass_index].nodes[index - len(graph.leaves)]
    consts = node.const_args or (False,) * len(node.args)
    operands = [
        show(a) if c else graph.name(int(a)) for a, c in zip(node.args, consts, strict=True)
    ]
    if node.op in SYMBOLS:
        expression = f" {SYMBOLS[node.op]} ".join(operands)
    elif node.op == "neg":
        expression = f"-{operands[0]}"
    else:
        expression = f"{node.op}({operands[0]})"
    return f"{graph.name(index)} = {expression}"


def graph_values(
    graph: Graph,
    got: list[PassResult],
    expected: list[PassResult],
    field: str,
    nodes: int | None = None,
) -> str | None:
    """Message for the first node, in topological order, whose data or grad differs."""
    for pass_index, (g, e) in enumerate(zip(got, expected, strict=True)):
        got_values, expected_values = getattr(g, field), getattr(e, field)
        if expected_values is None:
            continue
        got_values, expected_values = got_values[:nodes], expected_values[:nodes]
        mismatch = first_mismatch(
            lambda i: f"{graph.name(i)}.{field}",
            got_values,
            expected_values,  # noqa: B023
        )
        if mismatch is not None:
            where = "" if len(got) == 1 else f" after backward() of graph {pass_index + 1}"
            if mismatch.index < len(graph.leaves):
                return f"{mismatch}{where}"
            return f"{mismatch}{where} (node {node_text(graph, mismatch.index, pass_index)})"
    return None
