"""grader/compare.py: tolerances, numbers shown just precisely enough, nodes named, the first
wrong node found where the bug is, and failures a student can reproduce by pasting code."""

from __future__ import annotations

import contextlib
import io
import math
import sys
import types
from dataclasses import replace

import jsonschema
import pytest

from grader.compare import (
    ATOL,
    MAX_DRAWN_NODES,
    RTOL,
    RULES,
    Mismatch,
    close,
    details,
    expression,
    first_mismatch,
    graph_values,
    guess,
    node_text,
    reproduce,
    show_pair,
)
from grader.oracle import Oracle
from grader.probes import Builder, Const, Graph, mixing, op_graph, reuse_graph
from grader.protocol import PassResult
from grader.report import schema

NAN, INF = math.nan, math.inf
TORCH = Oracle(None)
"""Expected numbers from the expectations shipped with the grader (torch only if missing)."""


@pytest.mark.parametrize(
    "got, expected",
    [
        (0.75, 0.75),
        (1e6 * (1 + 0.5 * RTOL), 1e6),
        (-3.0 * (1 - 0.5 * RTOL), -3.0),
        (0.5 * ATOL, 0.0),
        (-0.5 * ATOL, 0.0),
        (NAN, NAN),
        (INF, INF),
        (-INF, -INF),
        ("<list>", "<list>"),
    ],
)
def test_close(got: float, expected: float) -> None:
    assert close(got, expected)


@pytest.mark.parametrize(
    "got, expected",
    [
        (1 + 3 * RTOL, 1.0),  # beyond ATOL + RTOL * 1
        (1e6 * (1 + 2 * RTOL), 1e6),
        (0.7864 + 1e-9, 0.7864),
        (1.0 + 1e-11, 1.0),  # central finite differences are about this far off
        (2 * ATOL, 0.0),
        (NAN, 1.0),
        (1.0, NAN),
        (INF, -INF),
        (1e308, INF),
        (INF, 1e308),
        ("<list>", 1.0),
        ("<bool>", 0.0),
        (None, 1.0),
    ],
)
def test_not_close(got: float | str, expected: float) -> None:
    assert not close(got, expected)


@pytest.mark.parametrize(
    "expected, got, shown",
    [
        (1 - math.tanh(0.5) ** 2, 0.75, ("0.7864", "0.75")),
        (1.0, 1.0 + 1e-7, ("1", "1.0000001")),
        (1.0, 1.0 + 1e-11, ("1", "1.00000000001")),
        (0.1 + 0.2, 0.3, ("0.30000000000000004", "0.29999999999999999")),
        (1.5, "<list>", ("1.5", "a list instead of a number")),
        (1.5, "<NoneType>", ("1.5", "a NoneType instead of a number")),
        (1.5, NAN, ("1.5", "nan")),
    ],
)
def test_show_pair_uses_just_enough_digits_to_differ(
    expected: float, got: float | str, shown: tuple[str, str]
) -> None:
    assert show_pair(expected, got) == shown


def test_a_mismatch_reads_expected_source_then_got() -> None:
    mismatch = Mismatch("x.grad", 1 - math.tanh(0.5) ** 2, 0.75, 0)
    assert str(mismatch) == "expected x.grad=0.7864 (torch), got 0.75"
    assert mismatch.text("your own engine") == "expected x.grad=0.7864 (your own engine), got 0.75"


def test_first_mismatch_follows_the_order_it_is_given() -> None:
    got, expected = (1.0, 9.0, 3.0, 9.0), (1.0, 2.0, 3.0, 4.0)
    label = lambda i: f"output {i}"  # noqa: E731
    assert first_mismatch(label, got, expected).index == 1
    assert first_mismatch(label, got, expected, range(3, -1, -1)).index == 3
    assert first_mismatch(label, expected, expected) is None
    described = first_mismatch(label, ("<str>",), (1.0,))
    assert (described.label, described.got, described.expected) == ("output 0", "<str>", 1.0)


def graph_of_each_kind() -> Graph:
    b = Builder(1.5, -2.0, names=("a", "b"))
    product = b.op("mul", 0, 1)
    squashed = b.op("tanh", product)
    flipped = b.op("neg", squashed)
    b.op("pow", flipped, Const(2))
    b.op("sub", Const(2.5), 1)
    b.op("div", 0, Const(1 / 3))
    b.backward()
    b.op("add", 0, 1)
    b.backward()
    return b.graph()


@pytest.mark.parametrize(
    "index, pass_index, text",
    [
        (0, 0, "a"),
        (1, 0, "b"),
        (2, 0, "n2 = a * b"),
        (3, 0, "n3 = n2.tanh()"),
        (4, 0, "n4 = -n3"),
        (5, 0, "n5 = n4 ** 2"),
        (6, 0, "n6 = 2.5 - b"),
        (7, 0, "n7 = a / 0.333333"),
        (2, 1, "n2 = a + b"),
    ],
)
def test_node_text(index: int, pass_index: int, text: str) -> None:
    assert node_text(graph_of_each_kind(), index, pass_index) == text


def test_an_exact_expression_writes_constants_as_python_reads_them_back() -> None:
    graph = graph_of_each_kind()
    assert expression(graph, 7, exact=True) == "a / 0.3333333333333333"
    assert expression(graph, 5, exact=True) == "n4 ** 2"


def test_node_text_of_a_one_op_graph_names_its_parts() -> None:
    graph = op_graph("div", 3, Const(4.0))
    assert (node_text(graph, 0), node_text(graph, 1)) == ("x", "out = x / 4")
    upstream = op_graph("tanh", 0.5, upstream=2.5)
    assert [node_text(upstream, i) for i in range(4)] == ["x", "c", "out = x.tanh()", "y = out * c"]


# ---- the first wrong node ----------------------------------------------------------------


def results(*passes: tuple[tuple, tuple | None]) -> list[PassResult]:
    return [PassResult(data=tuple(map(float, d)), grad=g) for d, g in passes]


def test_data_is_compared_in_topological_order() -> None:
    graph = graph_of_each_kind()
    expected = results(((1, 2, 3, 4, 5, 6, 7, 8), None), ((1, 2, 3), None))
    got = results(((1, 2, 3, -4, 0, 6, 7, 8), None), ((1, 2, 3), None))
    mismatch = graph_values(graph, got, expected, "data")
    assert (mismatch.pass_index, mismatch.node, mismatch.field) == (0, 3, "data")
    assert mismatch.message == (
        "expected n3.data=4 (torch), got -4 after backward() of graph 1 (node n3 = n2.tanh())"
    )
    assert mismatch.local is None


def test_grads_are_compared_from_the_root_down() -> None:
    """Every node above the first wrong grad is right: that is where a local derivative is."""
    graph = graph_of_each_kind()
    expected = results(((0,) * 8, (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1.0)), ((0,) * 3, None))
    got = results(((0,) * 8, (1.0, 2.0, 3.0, -4.0, 0.0, 6.0, 7.0, 1.0)), ((0,) * 3, None))
    mismatch = graph_values(graph, got, expected, "grad")
    assert (mismatch.node, mismatch.field) == (4, "grad")
    assert mismatch.message.startswith(
        "expected n4.grad=5 (torch), got 0 after backward() of graph 1"
    )
    assert mismatch.message.endswith("(node n4 = -n3)")
    assert graph_values(graph, got, expected, "grad", nodes=3) is None
    assert graph_values(graph, expected, expected, "grad") is None


def test_a_later_backward_is_named() -> None:
    graph = graph_of_each_kind()
    expected = results(((0,) * 8, (0.0,) * 8), ((0,) * 3, (1.0, 1.0, 1.0)))
    got = results(((0,) * 8, (0.0,) * 8), ((0,) * 3, (2.0, 1.0, 1.0)))
    mismatch = graph_values(graph, got, expected, "grad")
    assert mismatch.pass_index == 1 and mismatch.node == 0
    assert mismatch.message == "expected a.grad=1 (torch), got 2 after backward() of graph 2"


def test_a_one_pass_graph_names_no_pass() -> None:
    graph = op_graph("tanh", 0.5)
    expected = [PassResult(data=(0.5, math.tanh(0.5)), grad=(1 - math.tanh(0.5) ** 2, 1.0))]
    got = [PassResult(data=(0.5, math.tanh(0.5)), grad=(0.75, 1.0))]
    mismatch = graph_values(graph, got, expected, "grad")
    assert mismatch.message == "expected x.grad=0.7864 (torch), got 0.75"


def test_missing_grads_are_a_mismatch_that_says_so() -> None:
    graph = op_graph("tanh", 0.5)
    expected = [PassResult(data=(0.5, 0.4), grad=(0.8, 1.0))]
    got = [PassResult(data=(0.5, 0.4), grad=None)]
    mismatch = graph_values(graph, got, expected, "grad")
    assert "got a missing instead of a number" in mismatch.message


def test_reported_nodes_are_named_as_the_graph_names_them() -> None:
    """A graph that reports some nodes (the model graphs) maps reply positions to nodes."""
    graph = replace(chain_of(8)[0], report=(7, 5, 2, 0))
    count = len(graph.report)
    expected = [PassResult(data=(0.5,) * count, grad=(1.0,) * count)]
    got = [PassResult(data=(0.5,) * count, grad=(1.0, 1.0, 7.0, 1.0))]
    mismatch = graph_values(graph, got, expected, "grad")
    assert mismatch.node == 2
    assert mismatch.message.startswith("expected n2.grad=1 (torch), got 7")
    assert mismatch.local is None
    first_wrong = [PassResult(data=(0.5,) * count, grad=(3.0, 1.0, 1.0, 1.0))]
    mismatch = graph_values(graph, first_wrong, expected, "grad")
    assert mismatch.node == 7 and mismatch.message.startswith("expected n7.grad=1 (torch), got 3")


# ---- the local derivative that goes wrong, and a guess at the rule used --------------------


def torch_and(graph: Graph, node: int, value: float, field: str = "grad"):
    """Torch's results for `graph`, and the same with one node's `field` replaced."""
    expected = TORCH.graph(graph)
    values = list(getattr(expected[0], field))
    values[node] = value
    got = [replace(expected[0], **{field: tuple(values)}), *expected[1:]]
    return got, expected


def local_of(graph: Graph, student_grad: float, node: int = 0) -> dict | None:
    got, expected = torch_and(graph, node, student_grad)
    mismatch = graph_values(graph, got, expected, "grad")
    assert mismatch is not None and mismatch.node == node
    return mismatch.local


def test_a_tanh_rule_that_uses_its_input_is_recognised_under_an_upstream_grad() -> None:
    local = local_of(op_graph("tanh", 0.5, upstream=2.5), 2.5 * (1 - 0.5**2))
    assert local == {
        "node": 2,
        "op": "tanh",
        "wrt": 0,
        "x": 0.5,
        "upstream": 2.5,
        "yours": pytest.approx(0.75, rel=1e-15),
        "torch": pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15),
        "rule": RULES["tanh"],
        "guess": "you used 1 - x^2 (the input, not tanh(x))",
    }


@pytest.mark.parametrize(
    "op, x, upstream",
    [("exp", 0.5, 2.5), ("tanh", 0.5, 2.5), ("log", 2.0, -1.5), ("exp", 1.3, -1.5)],
)
def test_a_rule_that_forgot_out_grad_is_recognised(op: str, x: float, upstream: float) -> None:
    graph = op_graph(op, x, upstream=upstream)
    local_derivative = TORCH.graph(graph)[0].grad[0] / upstream
    local = local_of(graph, local_derivative)
    assert local["upstream"] == upstream and local["yours"] == pytest.approx(
        local_derivative / upstream
    )
    assert local["guess"] == "you forgot to multiply by out.grad"


def test_relu_prime_at_zero_taken_as_one_is_recognised() -> None:
    local = local_of(op_graph("relu", 0.0), 1.0)
    assert (local["x"], local["torch"], local["yours"]) == (0.0, 0.0, 1.0)
    assert local["guess"] == "you used 1 at x <= 0 (torch uses 0 there)"


@pytest.mark.parametrize(
    "graph, student_grad, guessed",
    [
        (op_graph("pow", 1.5, Const(2), upstream=2.5), 2 * 1.5**2 * 2.5, "k * x^k (off by one)"),
        (op_graph("pow", 1.5, Const(2), upstream=2.5), 1.5 * 2.5, "x^(k-1) (no factor k)"),
        (op_graph("tanh", 0.5, upstream=2.5), (1 - math.tanh(0.5)) * 2.5, "1 - tanh(x) (not"),
        (op_graph("exp", 0.5, upstream=2.5), 0.5 * 2.5, "x (the input, not exp(x))"),
        (op_graph("log", 2.0, upstream=-1.5), -1.5 / math.log(2.0), "1/log(x) (the output"),
        (op_graph("mul", 2.0, -3.0), 2.0, "the input itself, not the other operand"),
        (op_graph("mul", 2.0, -3.0), 3.0, "the sign is flipped"),
        (op_graph("tanh", 0.5), 0.0, "no gradient reached this input"),
    ],
)
def test_common_wrong_rules_are_recognised(graph: Graph, student_grad: float, guessed: str) -> None:
    assert guessed in local_of(graph, student_grad)["guess"]


def test_a_wrong_grad_like_no_common_rule_is_not_guessed() -> None:
    local = local_of(op_graph("tanh", 0.5, upstream=2.5), 5.0)
    assert local["yours"] == 2.0 and local["guess"] is None


def test_guess_needs_numbers() -> None:
    node = op_graph("tanh", 0.5).passes[0].nodes[0]
    assert guess("tanh", 0.5, "<str>", None, node, 0.75, 0.75, 0.78, 1.0) is None


def test_no_local_derivative_where_it_cannot_be_read_off() -> None:
    """A node with two users (x * x) has no one local derivative; an upstream of 0 hides it."""
    assert local_of(reuse_graph("mul", -1.75), 1.0) is None
    graph = op_graph("tanh", 0.5, upstream=0.0)
    t = math.tanh(0.5)
    expected = [PassResult((0.5, 0.0, t, 0.0), (0.0, t, 0.0, 1.0))]
    got = [PassResult((0.5, 0.0, t, 0.0), (1.0, t, 0.0, 1.0))]
    mismatch = graph_values(graph, got, expected, "grad")
    assert mismatch.node == 0 and mismatch.local is None


# ---- details for the feedback page --------------------------------------------------------

GRAPH_DETAILS = {"$defs": schema()["$defs"], "$ref": "#/$defs/graph_details"}


def test_details_of_a_small_graph_draw_every_node() -> None:
    graph = op_graph("pow", 1.5, Const(2), upstream=2.5)
    got, expected = torch_and(graph, 0, 11.25)
    mismatch = graph_values(graph, got, expected, "grad")
    shown = details(graph, got, expected, mismatch)
    jsonschema.validate(shown, GRAPH_DETAILS)
    assert shown["names"] == ["x", "c", "out", "y"] and shown["leaves"] == [1.5, 2.5]
    [one] = shown["passes"]
    assert one["nodes"] == [{"op": "pow", "args": [0, {"const": 2}]}, {"op": "mul", "args": [2, 1]}]
    assert one["root"] == 3
    assert one["data"] == {"got": list(got[0].data), "expected": list(expected[0].data)}
    assert one["grad"] == {"got": list(got[0].grad), "expected": list(expected[0].grad)}
    assert shown["first_wrong"] == {"pass": 0, "node": 0, "field": "grad"}
    assert shown["local"] == mismatch.local and shown["local"]["op"] == "pow"
    assert shown["reproduce"].startswith("from exercises import Value")


def test_details_without_a_mismatch_and_of_a_forward_pass() -> None:
    graph = op_graph("add", 3, 4, backward=False)
    expected = [PassResult((3.0, 4.0, 7.0), None)]
    shown = details(graph, expected, expected, None)
    jsonschema.validate(shown, GRAPH_DETAILS)
    assert (shown["first_wrong"], shown["local"]) == (None, None)
    assert shown["passes"][0]["grad"] == {"got": None, "expected": None}
    assert "print(" not in shown["reproduce"]


def chain_of(size: int) -> tuple[Graph, list[PassResult]]:
    """A graph of `size` nodes: one leaf, then size - 1 additions of a constant."""
    b = Builder(0.5)
    node = 0
    for _ in range(size - 1):
        node = b.op("add", node, Const(1.0))
    b.backward()
    data = tuple(0.5 + i for i in range(size))
    return b.graph(), [PassResult(data, (1.0,) * size)]


@pytest.mark.parametrize("size", [MAX_DRAWN_NODES, MAX_DRAWN_NODES + 1])
def test_only_graphs_the_page_can_draw_carry_node_lists(size: int) -> None:
    graph, expected = chain_of(size)
    got = [replace(expected[0], grad=(2.0,) + expected[0].grad[1:])]
    mismatch = graph_values(graph, got, expected, "grad")
    shown = details(graph, got, expected, mismatch)
    jsonschema.validate(shown, GRAPH_DETAILS)
    drawn = size <= MAX_DRAWN_NODES
    assert (len(shown["names"]), len(shown["leaves"])) == ((size, 1) if drawn else (0, 0))
    assert len(shown["passes"][0]["nodes"]) == (size - 1 if drawn else 0)
    assert (shown["passes"][0]["data"]["got"] is not None) is drawn
    assert (shown["reproduce"] is not None) is drawn
    assert shown["first_wrong"] == {"pass": 0, "node": 0, "field": "grad"}


def test_a_one_pass_graph_carries_no_node_lists() -> None:
    graph = mixing("add")
    count = graph.count(0)
    assert count > MAX_DRAWN_NODES
    expected = [PassResult((1.0,) * count, (1.0,) * count, float(count))]
    shown = details(graph, expected, expected, None)
    jsonschema.validate(shown, GRAPH_DETAILS)
    assert shown["names"] == shown["leaves"] == shown["passes"][0]["nodes"] == []
    assert shown["reproduce"] is None


# ---- reproduce: code a student can paste -----------------------------------------------------


class Value:
    """A tiny correct engine, as a student's `exercises` would provide it."""

    def __init__(self, data, children=()):
        self.data, self.grad = data, 0.0
        self._prev, self._backward = children, lambda: None

    def _op(self, data, children, *local):
        out = Value(data, children)

        def backward():
            for child, derivative in zip(children, local, strict=True):
                child.grad += derivative * out.grad

        out._backward = backward
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._op(self.data + other.data, (self, other), 1.0, 1.0)

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._op(self.data * other.data, (self, other), other.data, self.data)

    def __pow__(self, k):
        return self._op(self.data**k, (self,), k * self.data ** (k - 1))

    def tanh(self):
        t = math.tanh(self.data)
        return self._op(t, (self,), 1 - t * t)

    def exp(self):
        e = math.exp(self.data)
        return self._op(e, (self,), e)

    def relu(self):
        return self._op(max(self.data, 0.0), (self,), float(self.data > 0))

    def log(self):
        return self._op(math.log(self.data), (self,), 1 / self.data)

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return -self + other

    def __rtruediv__(self, other):
        return self**-1 * other

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack += [(child, False) for child in node._prev]
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def run_pasted(code: str) -> str:
    """Run `code` as a student would, with the tiny engine as `exercises`; what it printed."""
    module = types.ModuleType("exercises")
    module.Value = Value
    printed = io.StringIO()
    saved = sys.modules.get("exercises")
    sys.modules["exercises"] = module
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "<pasted>", "exec"), {})
    finally:
        if saved is None:
            del sys.modules["exercises"]
        else:
            sys.modules["exercises"] = saved
    return printed.getvalue()


def accumulating() -> Graph:
    """Backprop's accumulation check: a * b, backward(), then (a * a) + b, backward()."""
    b = Builder(1.5, -2.0, names=("a", "b"))
    b.op("mul", 0, 1)
    b.backward()
    b.op("add", b.op("mul", 0, 0), 1)
    b.backward()
    return b.graph()


def diamond() -> Graph:
    b = Builder(3.0, -2.0, names=("a", "b"))
    left = b.op("mul", 0, Const(2.0), name="left")
    right = b.op("add", 0, 1, name="right")
    b.op("mul", left, right)
    b.backward()
    return b.graph()


def root_grad() -> Graph:
    b = Builder(2.0, -3.0, 0.5, names=("a", "b", "c"))
    b.op("mul", b.op("mul", 0, 1), 2, name="d")
    b.backward()
    return b.graph(reseed=False)


REPRODUCED = [
    ("tanh-upstream", op_graph("tanh", 0.5, upstream=2.5), 0, 0, "grad"),
    ("relu-at-0", op_graph("relu", 0.0), 0, 0, "grad"),
    ("pow", op_graph("pow", 1.5, Const(2), upstream=2.5), 0, 0, "grad"),
    ("number-left-sub", op_graph("sub", Const(2.5), -1.5, backward=False), 0, 1, "data"),
    ("number-left-div", op_graph("div", Const(2.5), -1.5), 0, 0, "grad"),
    ("neg", op_graph("neg", 2.5), 0, 0, "grad"),
    ("div", op_graph("div", 2.0, -3.0), 0, 1, "grad"),
    ("second-backward", accumulating(), 1, 0, "grad"),
    ("first-backward", accumulating(), 0, 1, "grad"),
    ("diamond", diamond(), 0, 0, "grad"),
    ("root-grad", root_grad(), 0, 2, "grad"),
]


@pytest.mark.parametrize(
    "graph, pass_index, node, field", [r[1:] for r in REPRODUCED], ids=[r[0] for r in REPRODUCED]
)
def test_reproduce_is_python_that_prints_torchs_value_on_a_correct_engine(
    graph: Graph, pass_index: int, node: int, field: str
) -> None:
    expected = TORCH.graph(graph)
    got = list(expected)
    values = list(getattr(expected[pass_index], field))
    values[node] += 1.0
    got[pass_index] = replace(expected[pass_index], **{field: tuple(values)})
    mismatch = graph_values(graph, got, expected, field)
    assert (mismatch.pass_index, mismatch.node, mismatch.field) == (pass_index, node, field)
    code = reproduce(graph, expected, mismatch)
    want = getattr(expected[pass_index], field)[node]
    assert code.splitlines()[-1].endswith(f"# torch: {want:.6g}")
    printed = run_pasted(code)
    assert printed.count("\n") == 1 and close(float(printed), want)


def test_reproduce_without_a_mismatch_builds_the_graph_and_prints_nothing() -> None:
    graph = op_graph("tanh", 0.5)
    code = reproduce(graph, TORCH.graph(graph), None)
    assert code.splitlines()[-2:] == ["out = x.tanh()", "out.backward()"]
    assert run_pasted(code) == ""
