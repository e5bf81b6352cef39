"""grader/compare.py: tolerances, numbers shown just precisely enough, and nodes named."""

from __future__ import annotations

import math

import pytest

from grader.compare import ATOL, RTOL, Mismatch, close, graph_values, node_text, show_pair
from grader.probes import Builder, Const, op_graph
from grader.replies import PassResult

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    "got, expected",
    [
        (0.75, 0.75),
        (1e6 * (1 + 0.5 * RTOL), 1e6),
        (-3.0 * (1 - 0.5 * RTOL), -3.0),
        (0.5 * ATOL, 0.0),
        (NAN, NAN),
        (INF, INF),
        (-INF, -INF),
    ],
)
def test_close(got: float, expected: float) -> None:
    assert close(got, expected)


@pytest.mark.parametrize(
    "got, expected",
    [
        (1 + 3 * RTOL, 1.0),  # beyond ATOL + RTOL * 1
        (0.7864 + 1e-9, 0.7864),
        (2 * ATOL, 0.0),
        (NAN, 1.0),
        (1.0, NAN),
        (INF, -INF),
        (1e308, INF),
        ("<list>", 1.0),
        ("<bool>", 0.0),
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
    ],
)
def test_show_pair_uses_just_enough_digits_to_differ(
    expected: float, got: float | str, shown: tuple[str, str]
) -> None:
    assert show_pair(expected, got) == shown


def test_a_mismatch_reads_expected_torch_then_got() -> None:
    assert (
        str(Mismatch("x.grad", 1 - math.tanh(0.5) ** 2, 0.75, 0))
        == "expected x.grad=0.7864 (torch), got 0.75"
    )


def graph_of_each_kind():
    b = Builder(1.5, -2.0, names=("a", "b"))
    product = b.op("mul", 0, 1)
    squashed = b.op("tanh", product)
    flipped = b.op("neg", squashed)
    b.op("pow", flipped, Const(2))
    b.op("sub", Const(2.5), 1)
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
        (3, 0, "n3 = tanh(n2)"),
        (4, 0, "n4 = -n3"),
        (5, 0, "n5 = n4 ** 2"),
        (6, 0, "n6 = 2.5 - b"),
        (2, 1, "n2 = a + b"),
    ],
)
def test_node_text(index: int, pass_index: int, text: str) -> None:
    assert node_text(graph_of_each_kind(), index, pass_index) == text


def test_node_text_of_a_one_op_graph_names_its_parts() -> None:
    graph = op_graph("div", 3, Const(4.0))
    assert (node_text(graph, 0), node_text(graph, 1)) == ("x", "out = x / 4")


def results(*grads: tuple[float, ...]) -> list[PassResult]:
    return [PassResult(data=tuple(range(len(g))), grad=g) for g in grads]


def test_graph_values_names_the_first_differing_node_in_topological_order() -> None:
    graph = graph_of_each_kind()
    expected = results((1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0), (1.0, 1.0, 1.0))
    got = results((1.0, 2.0, 3.0, -4.0, 0.0, 6.0, 7.0), (1.0, 1.0, 1.0))
    assert (
        graph_values(graph, got, expected, "grad")
        == "expected n3.grad=4 (torch), got -4 after backward() of graph 1 (node n3 = tanh(n2))"
    )
    assert graph_values(graph, got, expected, "grad", nodes=3) is None
    assert graph_values(graph, expected, expected, "grad") is None


def test_graph_values_says_which_backward_when_a_later_pass_differs() -> None:
    graph = graph_of_each_kind()
    expected = results((0.0,) * 7, (1.0, 1.0, 1.0))
    got = results((0.0,) * 7, (2.0, 1.0, 1.0))
    assert (
        graph_values(graph, got, expected, "grad")
        == "expected a.grad=1 (torch), got 2 after backward() of graph 2"
    )


def test_graph_values_of_a_one_pass_graph_names_no_pass() -> None:
    graph = op_graph("tanh", 0.5)
    expected = [PassResult(data=(0.5, math.tanh(0.5)), grad=(1 - math.tanh(0.5) ** 2, 1.0))]
    got = [PassResult(data=(0.5, math.tanh(0.5)), grad=(0.75, 1.0))]
    assert graph_values(graph, got, expected, "grad") == "expected x.grad=0.7864 (torch), got 0.75"
