"""forward: the value each op computes, with Values and with plain numbers on either side."""

import pytest

from grader import checks
from grader.compare import node_text
from grader.probes import Const, op_graph, operands_text

BINARY_CASES = [(2.0, -3.5), (-1.25, -4.0), (3, 4)]
UNARY_POINTS = [-1.3, 0.0, 0.7, 2.5]


def check_forward(lab, op, *operands):
    graph = op_graph(op, *operands, backward=False)
    what = f"forward of {node_text(graph, len(graph.leaves))} at {operands_text(graph, *operands)}"
    checks.graph(lab, graph, fields=("data",), what=what)


@pytest.mark.points(2)
@pytest.mark.task("1.1")
@pytest.mark.parametrize("a, b", BINARY_CASES)
def test_add(lab, a, b):
    """Value + Value."""
    check_forward(lab, "add", a, b)


@pytest.mark.points(2)
@pytest.mark.task("1.2")
@pytest.mark.parametrize("a, b", BINARY_CASES)
def test_mul(lab, a, b):
    """Value * Value."""
    check_forward(lab, "mul", a, b)


@pytest.mark.points(2)
@pytest.mark.task("1.3")
@pytest.mark.parametrize("x, k", [(1.5, 2), (-2.0, 3), (0.8, -1), (2.25, 0.5), (1.3, -1.5)])
def test_pow(lab, x, k):
    """Value ** constant."""
    check_forward(lab, "pow", x, Const(k))


@pytest.mark.points(1.5)
@pytest.mark.task("1.4")
@pytest.mark.parametrize("x", UNARY_POINTS)
def test_tanh(lab, x):
    """Value.tanh()."""
    check_forward(lab, "tanh", x)


@pytest.mark.points(1.5)
@pytest.mark.task("1.5")
@pytest.mark.parametrize("x", UNARY_POINTS)
def test_exp(lab, x):
    """Value.exp()."""
    check_forward(lab, "exp", x)


@pytest.mark.points(1.5)
@pytest.mark.task("1.6")
@pytest.mark.parametrize("x", [-2.0, -0.5, 0.5, 3.7])
def test_relu(lab, x):
    """Value.relu() on both sides of 0."""
    check_forward(lab, "relu", x)


@pytest.mark.points(1.5)
@pytest.mark.task("1.7")
@pytest.mark.parametrize("x", [0.25, 1.0, 2.0, 7.3])
def test_log(lab, x):
    """Value.log() (natural log)."""
    check_forward(lab, "log", x)


@pytest.mark.points(1)
@pytest.mark.task("1.8")
@pytest.mark.parametrize("x", [2.5, -1.0])
def test_neg(lab, x):
    """-Value."""
    check_forward(lab, "neg", x)


@pytest.mark.points(2)
@pytest.mark.task("1.9")
@pytest.mark.parametrize("a, b", BINARY_CASES)
def test_sub(lab, a, b):
    """Value - Value."""
    check_forward(lab, "sub", a, b)


@pytest.mark.points(2)
@pytest.mark.task("1.10")
@pytest.mark.parametrize("a, b", BINARY_CASES)
def test_truediv(lab, a, b):
    """Value / Value."""
    check_forward(lab, "div", a, b)


def number_case(op, task, number_left):
    side = "left" if number_left else "right"
    return pytest.param(op, number_left, marks=pytest.mark.task(task), id=f"{op}-number-{side}")


@pytest.mark.points(3)
@pytest.mark.parametrize(
    "op, number_left",
    [
        number_case("add", "1.1", False),
        number_case("mul", "1.2", False),
        number_case("sub", "1.9", False),
        number_case("div", "1.10", False),
        number_case("add", "1.11", True),
        number_case("mul", "1.11", True),
        number_case("sub", "1.11", True),
        number_case("div", "1.11", True),
    ],
)
def test_with_number(lab, op, number_left):
    """An op with a plain number on one side (2.5 * v, v - 2, 2.5 / v, ...)."""
    operands = (Const(2.5), -1.5) if number_left else (-1.5, Const(2))
    check_forward(lab, op, *operands)
