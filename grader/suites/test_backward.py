"""backward: each op's local derivative, checked on the grads of its inputs after backward()."""

import pytest

from grader import checks
from grader.compare import RULES, node_text
from grader.probes import Const, op_graph, operands_text


def check_backward(worker, oracle, op, *operands):
    """Only the inputs' grads are compared: a wrong forward is charged in `forward`."""
    graph = op_graph(op, *operands)
    inputs = len(graph.leaves)
    what = f"backward of {node_text(graph, inputs)} at {operands_text(graph, *operands)}"
    checks.graph(worker, oracle, graph, fields=("grad",), nodes=inputs, what=what, rule=RULES[op])


@pytest.mark.points(2.5)
@pytest.mark.task("2.1")
@pytest.mark.parametrize("a, b", [(2.0, -3.0), (-1.5, 4.0)])
def test_add(worker, oracle, a, b):
    """backward of a + b."""
    check_backward(worker, oracle, "add", a, b)


@pytest.mark.points(3)
@pytest.mark.task("2.2")
@pytest.mark.parametrize("a, b", [(2.0, -3.0), (-1.5, 4.0), (0.5, 0.25)])
def test_mul(worker, oracle, a, b):
    """backward of a * b."""
    check_backward(worker, oracle, "mul", a, b)


@pytest.mark.points(3)
@pytest.mark.task("2.3")
@pytest.mark.parametrize("x, k", [(1.5, 2), (-2.0, 3), (0.7, -1), (2.5, 0.5), (1.3, -1.5)])
def test_pow(worker, oracle, x, k):
    """backward of x ** k for constant k (negative and fractional too)."""
    check_backward(worker, oracle, "pow", x, Const(k))


@pytest.mark.points(3)
@pytest.mark.task("2.4")
@pytest.mark.parametrize("x", [0.5, -1.2, 2.0])
def test_tanh(worker, oracle, x):
    """backward of tanh(x)."""
    check_backward(worker, oracle, "tanh", x)


@pytest.mark.points(3)
@pytest.mark.task("2.5")
@pytest.mark.parametrize("x", [0.5, -2.0, 1.3])
def test_exp(worker, oracle, x):
    """backward of exp(x)."""
    check_backward(worker, oracle, "exp", x)


@pytest.mark.points(3)
@pytest.mark.task("2.6")
@pytest.mark.parametrize("x", [-2.0, 0.0, 0.5, 3.7])
def test_relu(worker, oracle, x):
    """backward of relu(x), on both sides of 0 and at 0 (where torch's derivative is 0)."""
    check_backward(worker, oracle, "relu", x)


@pytest.mark.points(3)
@pytest.mark.task("2.7")
@pytest.mark.parametrize("x", [0.5, 2.0, 7.3])
def test_log(worker, oracle, x):
    """backward of log(x), away from 0."""
    check_backward(worker, oracle, "log", x)


@pytest.mark.points(1)
@pytest.mark.task("1.8")
@pytest.mark.parametrize("x", [2.5, -1.0])
def test_neg(worker, oracle, x):
    """backward of -x."""
    check_backward(worker, oracle, "neg", x)


@pytest.mark.points(1)
@pytest.mark.task("1.9")
@pytest.mark.parametrize("a, b", [(2.0, -3.0), (-1.5, 4.0)])
def test_sub(worker, oracle, a, b):
    """backward of a - b."""
    check_backward(worker, oracle, "sub", a, b)


@pytest.mark.points(1.5)
@pytest.mark.task("1.10")
@pytest.mark.parametrize("a, b", [(2.0, -3.0), (-1.5, 4.0)])
def test_truediv(worker, oracle, a, b):
    """backward of a / b."""
    check_backward(worker, oracle, "div", a, b)


@pytest.mark.points(1)
@pytest.mark.task("1.11")
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_number_on_the_left(worker, oracle, op):
    """backward of an op with a plain number on the left (2.5 - x, 2.5 / x, ...)."""
    check_backward(worker, oracle, op, Const(2.5), -1.5)
