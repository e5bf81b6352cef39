"""backprop: backward() through whole graphs: root grad, reused nodes, order, accumulation.

Graphs here use only +, * and plain numbers, each check in three families: additions only,
products only, and both. A wrong rule of + (or *) is charged in `backward`; the family without
that op still shows that backward() itself is right, so backprop keeps its points.
"""

import pytest

from grader import checks
from grader.probes import Builder, Chain, Const, mixing, seeded

FAMILIES = ("add", "mul", "mixed")
LENGTH = 100_000
SMALL_GRAPH_S = 2.0
"""Time for backward() of a graph of at most 500 nodes: a thousand times what it takes."""
LEAF_VALUES = {
    "add": (-2.0, -1.5, -0.5, 0.5, 1.0, 1.5, 2.5),
    "mul": (-1.0, -0.5, 0.5, 1.0, 1.25),
    "mixed": (-2.0, -1.5, -0.5, 0.5, 1.0, 1.5, 2.5),
}
CONSTANTS = {"add": (-1.0, 0.5, 2.0), "mul": (-1.0, 0.5, 1.5)}


def family_ops(family):
    return {"add": ("add",), "mul": ("mul",), "mixed": ("add", "mul", "sub", "neg")}[family]


@pytest.mark.points(2)
@pytest.mark.task("3.1")
@pytest.mark.parametrize("family", ["add", "mul"])
def test_root_grad_is_one(lab, family):
    """backward() sets the root's grad to 1.0 before propagating."""
    b = Builder(2.0, -3.0, 0.5, names=("a", "b", "c"))
    b.op(family, b.op(family, 0, 1), 2, name="d")
    b.backward()
    sign = "+" if family == "add" else "*"
    checks.graph(
        lab,
        b.graph(reseed=False),
        fields=("grad",),
        what=f"d = a {sign} b {sign} c; d.backward()",
        rule="backward() starts with root.grad = 1.0: d(root)/d(root) = 1",
    )


def reused(kind):
    b = Builder(3.0, -2.0, names=("a", "b"))
    if kind == "c+c":
        c = b.op("add", 0, 1, name="c")
        b.op("add", c, c)
    elif kind == "c*c":
        c = b.op("mul", 0, 1, name="c")
        b.op("mul", c, c)
    elif kind in ("add-diamond", "mul-diamond"):
        op = kind.partition("-")[0]
        left = b.op(op, 0, Const(1.5), name="left")
        right = b.op(op, 0, 1, name="right")
        b.op(op, left, right)
    elif kind == "diamond":
        left = b.op("mul", 0, Const(2.0), name="left")
        right = b.op("add", 0, 1, name="right")
        b.op("mul", left, right)
    else:  # "<family>-by-several-parents": c feeds four nodes
        family = kind.partition("-")[0]
        plus = "mul" if family == "mul" else "add"
        times = "add" if family == "add" else "mul"
        c = b.op(plus, 0, Const(1.5), name="c")
        d = b.op(times, c, Const(2.0))
        e = b.op(times, c, 1)
        f = b.op("sub" if family == "mixed" else plus, c, 0)
        b.op(plus, b.op(plus, d, e), b.op(times, f, c))
    b.backward()
    return b.graph()


@pytest.mark.topology
@pytest.mark.points(5)
@pytest.mark.task("3.1")
@pytest.mark.parametrize(
    "kind",
    [
        "c+c",
        "c*c",
        "add-diamond",
        "mul-diamond",
        "diamond",
        "add-by-several-parents",
        "mul-by-several-parents",
        "mixed-by-several-parents",
    ],
)
def test_reused_nodes(lab, kind):
    """A node used more than once gets the sum of the gradients from every use."""
    checks.graph(
        lab,
        reused(kind),
        fields=("grad",),
        what=f"backward() on {kind}",
        timeout_s=SMALL_GRAPH_S,
        rule="a node used by several others collects the grad of every use (+=), and its "
        "own backward runs once, after all of them (a visited set)",
    )


def deep(family):
    """Each node feeds the next two: in a wrong order, grads arrive after they are passed on."""
    if family == "add":  # Fibonacci: x[k+1] = x[k] + x[k-1]
        b, depth = Builder(0.9, -0.4, names=("a", "b")), 60
        step = lambda p, c: b.op("add", c, p)  # noqa: E731
    elif family == "mul":  # +-1 values, so products stay exact: x[k+1] = x[k] * x[k-1]
        b, depth = Builder(1.0, -1.0, names=("a", "b")), 60
        step = lambda p, c: b.op("mul", c, p)  # noqa: E731
    else:
        b, depth = Builder(0.9, -0.4, names=("a", "b")), 250
        step = lambda p, c: b.op("add", b.op("mul", c, Const(0.5)), p)  # noqa: E731
    previous, current = 0, 1
    for _ in range(depth):
        previous, current = current, step(previous, current)
    b.backward()
    return b.graph()


@pytest.mark.topology
@pytest.mark.points(4)
@pytest.mark.task("3.1")
@pytest.mark.parametrize("family", FAMILIES)
def test_reverse_topological_order(lab, family):
    """Every node's grad is complete before it is passed on (reverse topological order)."""
    checks.graph(
        lab,
        deep(family),
        fields=("grad",),
        what=f"backward() on a deep ladder of {family} ops",
        timeout_s=SMALL_GRAPH_S,
        rule="call each node's backward only after all of its users: reverse topological order",
    )


def random_graph(family, size, rng):
    """A random expression DAG over 2-4 leaves; every node may be reused."""
    values = LEAF_VALUES[family]
    leaves = [rng.choice(values) for _ in range(rng.randint(2, 4))]
    b = Builder(*leaves, names=tuple("abcd"[: len(leaves)]))
    ops = family_ops(family)
    count = len(leaves)
    for _ in range(rng.randint(size // 2, size)):
        op = rng.choice(ops + ("const",))
        a = rng.randrange(count)
        other = rng.randrange(max(0, count - 4), count)  # keep depth and values tame
        if op == "neg":
            b.op("neg", a)
        elif op == "const":
            const_op = {"add": "add", "mul": "mul"}.get(family) or rng.choice(("add", "mul"))
            b.op(const_op, a, Const(rng.choice(CONSTANTS[const_op])))
        else:
            b.op(op, a, other)
        count += 1
    b.backward()
    return b.graph()


@pytest.mark.topology
@pytest.mark.points(6)
@pytest.mark.task("3.1")
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("size", [6, 20, 60])
def test_random_graphs(lab, family, size):
    """Random expression DAGs: every node's data and grad match torch's (the same graphs in
    every run; the failing one is printed as code you can paste)."""
    rng = seeded(f"random-graphs-{family}-{size}")
    for example in range(1, 7):
        graph = random_graph(family, size, rng)
        checks.graph(
            lab,
            graph,
            fields=("data", "grad"),
            what=f"backward() on random graph {example} of {len(graph.passes[0].nodes)} "
            f"{family} ops",
            timeout_s=SMALL_GRAPH_S,
        )


@pytest.mark.topology
@pytest.mark.points(2)
@pytest.mark.task("3.1")
@pytest.mark.parametrize("family", FAMILIES)
def test_leaf_grads_accumulate_across_graphs(lab, family):
    """Like torch, leaves keep accumulating grads across backward() calls until zeroed."""
    first, second = ("add", "add") if family == "add" else ("mul", "mul")
    if family == "mixed":
        first, second = "mul", "add"
    b = Builder(1.5, -2.0, names=("a", "b"))
    b.op(first, 0, 1)
    b.backward()
    b.op(second, b.op(first, 0, 0), 1)
    b.backward()
    checks.graph(
        lab,
        b.graph(),
        fields=("grad",),
        what=f"a {first} b, backward(), then (a {first} a) {second} b, backward(), on the same "
        "leaves",
        rule="backward() adds to leaf grads (+=); only zero_grad resets them",
    )


@pytest.mark.costly
@pytest.mark.points(2)
@pytest.mark.task("3.1")
@pytest.mark.parametrize("family", ["add", "mul"])
def test_one_pass(lab, family):
    """backward() visits each node once: its cost is about that of the forward pass."""
    graph = mixing(family)
    checks.one_pass(
        lab,
        graph,
        what=f"backward() of a {graph.size():,}-node graph of {family} ops",
        rule="backward() must visit each node once, in reverse topological order "
        "(see docs/grading.md)",
    )


@pytest.mark.costly
@pytest.mark.points(4)
@pytest.mark.task("3.1")
def test_hundred_thousand_op_chain(lab):
    """backward() of l0 + l1 + ... + l100000 added one by one: every leaf's grad is 1."""
    checks.chain(
        lab,
        Chain(tuple(((i % 11) - 5) / 8 for i in range(LENGTH + 1))),
        what=f"backward() of a chain of {LENGTH:,} additions",
        timeout_s=30,
        rule="a recursive topological sort exceeds Python's recursion limit near "
        "1,000 nodes: build the order with an explicit stack",
    )
