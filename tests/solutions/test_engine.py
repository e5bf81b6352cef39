"""The reference Value against PyTorch autograd in float64."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solutions import Value


def leaf(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def grad_of(t: torch.Tensor) -> float:
    return 0.0 if t.grad is None else t.grad.item()


UNARY_CASES = [
    ("tanh", lambda v: v.tanh(), [-3.0, -0.5, 0.0, 0.5, 2.0]),
    ("exp", lambda v: v.exp(), [-2.0, 0.0, 0.7, 3.0]),
    ("relu", lambda v: v.relu(), [-1.5, -1e-9, 0.0, 1e-9, 2.5]),
    ("log", lambda v: v.log(), [0.1, 1.0, 2.5, 100.0]),
    ("neg", lambda v: -v, [-2.0, 0.0, 3.5]),
    ("square", lambda v: v**2, [-3.0, -0.5, 0.0, 1.5]),
    ("cube", lambda v: v**3, [-2.0, 0.5]),
    ("pow -1", lambda v: v**-1, [-4.0, -0.5, 0.25, 3.0]),
    ("pow -2", lambda v: v**-2, [-1.5, 2.0]),
    ("pow 0", lambda v: v**0, [-2.0, 3.0]),
    ("pow 1", lambda v: v**1, [-2.0, 3.0]),
    ("pow 0.5", lambda v: v**0.5, [0.25, 2.0, 9.0]),
    ("pow 1.5", lambda v: v**1.5, [0.3, 4.0]),
    ("pow -0.5", lambda v: v**-0.5, [0.5, 16.0]),
    ("number + x", lambda v: 2.5 + v, [-1.0, 4.0]),
    ("number - x", lambda v: 2.5 - v, [-1.0, 4.0]),
    ("number * x", lambda v: -3 * v, [-1.0, 4.0]),
    ("number / x", lambda v: 2 / v, [-1.5, 4.0]),
    ("x + number", lambda v: v + 2.5, [-1.0]),
    ("x - number", lambda v: v - 2.5, [-1.0]),
    ("x * number", lambda v: v * -3, [-1.0]),
    ("x / number", lambda v: v / 4, [-1.0]),
]

BINARY_CASES = [
    ("a + b", lambda a, b: a + b),
    ("a - b", lambda a, b: a - b),
    ("a * b", lambda a, b: a * b),
    ("a / b", lambda a, b: a / b),
]


@pytest.mark.parametrize(
    ("fn", "x"),
    [pytest.param(fn, x, id=f"{name} at {x}") for name, fn, xs in UNARY_CASES for x in xs],
)
def test_unary_op_value_and_gradient_match_torch(fn: Callable[[Any], Any], x: float) -> None:
    v, t = Value(x), leaf(x)
    out, expected = fn(v), fn(t)
    out.backward()
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12)
    assert v.grad == pytest.approx(grad_of(t), rel=1e-12)


@pytest.mark.parametrize(("name", "fn"), BINARY_CASES, ids=[name for name, _ in BINARY_CASES])
@pytest.mark.parametrize(("a", "b"), [(2.0, 3.0), (-1.5, 0.5), (-2.0, -4.0), (0.0, 1.25)])
def test_binary_op_value_and_gradients_match_torch(
    name: str, fn: Callable[[Any, Any], Any], a: float, b: float
) -> None:
    va, vb, ta, tb = Value(a), Value(b), leaf(a), leaf(b)
    out, expected = fn(va, vb), fn(ta, tb)
    out.backward()
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12)
    assert va.grad == pytest.approx(grad_of(ta), rel=1e-12)
    assert vb.grad == pytest.approx(grad_of(tb), rel=1e-12)


def test_new_value_holds_float_data_and_zero_grad() -> None:
    v = Value(3)
    assert isinstance(v.data, float)
    assert (v.data, v.grad) == (3.0, 0.0)


def test_int_data_computes_like_float_data() -> None:
    a, b = Value(3), Value(-2)
    out = a * b + a**2
    out.backward()
    assert (out.data, a.grad, b.grad) == (3.0, 4.0, 3.0)


def test_every_op_returns_a_new_value() -> None:
    a, b = Value(0.5), Value(2.0)
    results = [a + b, a - b, a * b, a / b, -a, a**2, a.tanh(), a.exp(), a.relu(), a.log()]
    results += [1 + a, 1 - a, 2 * a, 2 / a]
    assert all(isinstance(r, Value) and r is not a and r is not b for r in results)


def test_pow_with_a_value_exponent_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Value(2.0) ** Value(3.0)


def test_backward_sets_the_root_grad_to_one() -> None:
    root = Value(2.0).tanh()
    root.backward()
    assert root.grad == 1.0


@pytest.mark.parametrize(
    "graph",
    [
        pytest.param(lambda a: a * a, id="a*a"),
        pytest.param(lambda a: a + a, id="a+a"),
        pytest.param(lambda a: a * a * a - a, id="a*a*a-a"),
        pytest.param(lambda a: (a * 2) * (a + 3), id="diamond"),
        pytest.param(lambda a: (lambda b: b * b + b)(a.tanh()), id="intermediate reused"),
        pytest.param(lambda a: (lambda b: (b + 1) * (b - 1) / b)(a.exp()), id="reused thrice"),
    ],
)
def test_reused_nodes_accumulate_gradients_from_every_use(graph: Callable[[Any], Any]) -> None:
    v, t = Value(0.7), leaf(0.7)
    graph(v).backward()
    graph(t).backward()
    assert v.grad == pytest.approx(grad_of(t), rel=1e-12)


def test_leaf_grads_accumulate_across_backward_calls_on_two_graphs() -> None:
    v, t = Value(1.5), leaf(1.5)
    for fn in (lambda a: a * 3, lambda a: a.tanh() * a):
        fn(v).backward()
        fn(t).backward()
    assert v.grad == pytest.approx(grad_of(t), rel=1e-12)


def test_backward_through_a_chain_of_100_000_ops() -> None:
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    assert x.grad == pytest.approx(1.00001**100_000, rel=1e-9)


# Random graphs: each step applies an op to earlier nodes picked by index, so nodes get reused.
# The ops keep to their domains (log and fractional powers of positive numbers, no division by 0).
UNARY_STEPS: dict[str, Callable[[Any], Any]] = {
    "neg": lambda a: -a,
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "exp": lambda a: a.tanh().exp(),
    "log": lambda a: (a * a + 1).log(),
    "square": lambda a: a**2,
    "sqrt": lambda a: (a * a + 0.5) ** 0.5,
    "pow -1.5": lambda a: (a * a + 1) ** -1.5,
    "number - a": lambda a: 1.5 - a,
    "number / a": lambda a: 2 / (a * a + 1),
    "number * a": lambda a: 0.5 * a,
}
BINARY_STEPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
}
steps = st.tuples(
    st.sampled_from(sorted(UNARY_STEPS) + sorted(BINARY_STEPS)),
    st.integers(min_value=0),
    st.integers(min_value=0),
)


def run_program(leaves: list[Any], program: list[tuple[str, int, int]]) -> list[Any]:
    """Apply the program's steps to the leaves; return every node of the pool, leaves first."""
    pool = list(leaves)
    for op, i, j in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append(UNARY_STEPS[op](a) if op in UNARY_STEPS else BINARY_STEPS[op](a, b))
    return pool


@settings(
    max_examples=80,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(
    leaves=st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=4),
    program=st.lists(steps, min_size=1, max_size=12),
)
def test_random_graphs_give_every_node_the_torch_gradient(
    leaves: list[float], program: list[tuple[str, int, int]]
) -> None:
    tensors = run_program([leaf(x) for x in leaves], program)
    assume(all(abs(t.item()) < 1e100 for t in tensors))
    for t in tensors[len(leaves) :]:
        t.retain_grad()
    tensors[-1].backward()
    values = run_program([Value(x) for x in leaves], program)
    values[-1].backward()

    # Sums of large terms may cancel, so the error allowed near zero scales with the largest term.
    data_scale = max(1.0, *(abs(t.item()) for t in tensors))
    grad_scale = max(1.0, *(abs(grad_of(t)) for t in tensors))
    for node, (v, t) in enumerate(zip(values, tensors, strict=True)):
        assert math.isclose(v.data, t.item(), rel_tol=1e-9, abs_tol=1e-12 * data_scale), node
        assert math.isclose(v.grad, grad_of(t), rel_tol=1e-9, abs_tol=1e-12 * grad_scale), node
