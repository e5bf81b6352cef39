"""backprop: backward() through whole graphs: root grad, reused nodes, order, accumulation.

Graphs here use only +, -, * and plain numbers, so a wrong rule of tanh, exp, pow, ... is
charged in `backward`, not again here.
"""

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import checks
from grader.probes import Builder, Const

DERANDOMIZED = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    max_examples=8,
    suppress_health_check=list(HealthCheck),
)


def expression_root():
    b = Builder(2.0, -3.0, 10.0, names=("a", "b", "c"))
    b.op("add", b.op("mul", 0, 1), 2)
    b.backward()
    return b.graph()


@pytest.mark.points(2)
@pytest.mark.task("3.1")
def test_root_grad_is_one(worker, oracle):
    """backward() sets the root's grad to 1.0 before propagating."""
    graph = expression_root()
    checks.graph(
        worker,
        oracle,
        graph,
        fields=("grad",),
        what="d = a * b + c; d.backward()",
        rule="the root's own grad is d(root)/d(root) = 1",
    )


def reused(kind):
    b = Builder(3.0, -2.0, names=("a", "b"))
    if kind == "a*a":
        b.op("mul", 0, 0)
    elif kind == "a+a":
        b.op("add", 0, 0)
    elif kind == "diamond":
        left = b.op("mul", 0, Const(2.0))
        right = b.op("add", 0, 1)
        b.op("mul", left, right)
    elif kind == "reused-twice-by-one-parent":
        c = b.op("mul", 0, 1)
        b.op("mul", c, c)
    else:  # reused by several parents
        c = b.op("add", 0, Const(1.5))
        d = b.op("mul", c, Const(2.0))
        e = b.op("mul", c, 1)
        f = b.op("sub", c, 0)
        b.op("add", b.op("add", d, e), b.op("mul", f, c))
    b.backward()
    return b.graph()


@pytest.mark.points(5)
@pytest.mark.task("3.1")
@pytest.mark.parametrize(
    "kind", ["a*a", "a+a", "diamond", "reused-twice-by-one-parent", "reused-by-several-parents"]
)
def test_reused_nodes(worker, oracle, kind):
    """A node used more than once gets the sum of the gradients from every use."""
    checks.graph(
        worker,
        oracle,
        reused(kind),
        fields=("grad",),
        what=f"backward() on {kind}",
        rule="a node used twice must accumulate (+=) both contributions",
    )


def deep(kind, depth=250):
    """~500 nodes where each node feeds the next two: wrong order gives wrong grads."""
    b = Builder(0.9, -0.4, names=("a", "b"))
    previous, current = 0, 1
    for i in range(depth):
        if kind == "ladder":
            scaled = b.op("mul", current, Const(0.5))
            previous, current = current, b.op("add", scaled, previous)
        else:
            mixed = b.op("mul", current, previous if i % 3 else Const(-0.7))
            previous, current = current, b.op("sub", mixed, Const(0.1))
    b.backward()
    return b.graph()


@pytest.mark.points(4)
@pytest.mark.task("3.1")
@pytest.mark.parametrize("kind", ["ladder", "mixed"])
def test_reverse_topological_order(worker, oracle, kind):
    """Every node's grad is complete before it is passed on (reverse topological order)."""
    checks.graph(
        worker,
        oracle,
        deep(kind),
        fields=("grad",),
        what=f"backward() on a deep {kind}",
        rule="call each node's backward only after all of its users: reverse topological order",
    )


@st.composite
def dags(draw, size):
    """A random expression DAG of +, -, *, neg over 2-4 leaves; every node may be reused."""
    leaves = draw(
        st.lists(st.sampled_from([-2.0, -1.5, -0.5, 0.5, 1.0, 1.5, 2.5]), min_size=2, max_size=4)
    )
    b = Builder(*leaves)
    count = len(leaves)
    for _ in range(draw(st.integers(size // 2, size))):
        op = draw(st.sampled_from(["add", "sub", "mul", "mul", "neg", "add_const"]))
        a = draw(st.integers(0, count - 1))
        other = draw(st.integers(max(0, count - 4), count - 1))  # keep depth and values tame
        if op == "neg":
            b.op("neg", a)
        elif op == "add_const":
            b.op("add", a, Const(draw(st.sampled_from([-1.0, 0.5, 2.0]))))
        else:
            b.op(op, a, other)
        count += 1
    b.backward()
    return b.graph()


@pytest.mark.points(8)
@pytest.mark.task("3.1")
@pytest.mark.parametrize("size", [6, 20, 60])
def test_random_graphs(worker, oracle, size):
    """Random expression DAGs: every node's grad matches torch's (derandomized)."""

    @DERANDOMIZED
    @given(dags(size))
    def check(graph):
        checks.graph(
            worker,
            oracle,
            graph,
            fields=("data", "grad"),
            what=f"backward() on a random graph of {len(graph.passes[0].nodes)} ops",
        )

    check()


@pytest.mark.points(3)
@pytest.mark.task("3.1")
def test_leaf_grads_accumulate_across_graphs(worker, oracle):
    """Like torch, leaves keep accumulating grads across backward() calls until zeroed."""
    b = Builder(1.5, -2.0, names=("a", "b"))
    b.op("mul", 0, 1)
    b.backward()
    b.op("add", b.op("mul", 0, 0), 1)
    b.backward()
    checks.graph(
        worker,
        oracle,
        b.graph(),
        fields=("grad",),
        what="a * b, backward(), then a * a + b, backward() on the same leaves",
        rule="backward() adds to leaf grads (+=); only zero_grad resets them",
    )


@pytest.mark.points(3)
@pytest.mark.task("3.1")
def test_linear_time(worker, oracle):
    """5,000 leaves: backprop takes one sweep; per-leaf finite differences run out of time."""
    leaves = [((i % 7) - 3) / 4 for i in range(5000)]
    b = Builder(*leaves)
    terms = [b.op("mul", i, i + 1) for i in range(0, len(leaves), 2)]
    while len(terms) > 1:  # summed pairwise: shallow, so a recursive sort is charged in stretch
        terms = [
            b.op("add", *terms[i : i + 2]) if i + 1 < len(terms) else terms[i]
            for i in range(0, len(terms), 2)
        ]
    b.backward()
    checks.graph(
        worker,
        oracle,
        b.graph(),
        fields=("grad",),
        what="backward() of a sum of 2,500 products (one pass over the graph)",
    )
