"""backward: each op's local derivative, read from its inputs' grads after backward().

Each rule is checked four ways: with the op as the root (out.grad = 1), under an upstream
gradient (y = out * c: the rule must multiply by out.grad), with its input used twice (x + x,
or op(x) + x: the rule must accumulate, +=), and on a large graph that backward() must handle
in one pass (no re-evaluating the graph per node: see docs/grading.md).
A backward() that leaves the root's grad other than 1 is run again with root.grad set to 1
first, so that forgetting the root is charged once, in backprop, not in every rule.
"""

import pytest

from grader import checks, compare
from grader.compare import RULES, UPSTREAM, expression
from grader.probes import (
    Const,
    derived_graph,
    mixing,
    op_graph,
    operands_text,
    reuse_graph,
    shared_input_graph,
)

ONE_PASS = "one-pass"


def check_rule(lab, op, *operands, upstream=None):
    """Only the inputs' grads are compared: a wrong forward is charged in `forward`."""
    graph = op_graph(op, *operands, upstream=upstream)
    inputs = sum(not isinstance(o, Const) for o in operands)
    out = inputs + (upstream is not None)
    what = f"backward of out = {expression(graph, out)} at {operands_text(graph, *operands)}"
    rule = RULES[op]
    if upstream is not None:
        lab.case.needs.add("3.1")
        what += f", with out.grad = {upstream:g} (y = out * c, c = {upstream:g})"
        rule += f"; {UPSTREAM}"
    try:
        checks.graph(lab, graph, fields=("grad",), nodes=inputs, what=what, rule=rule)
    except checks.Failure:
        if own_forward_explains(lab, graph, op, operands, upstream):
            lab.case.consistent = lab.case.own_forward = True
        raise


def own_forward_explains(lab, graph, op, operands, upstream) -> bool:
    """Is the op's value wrong, and are the student's grads the derivative of that wrong value
    (central differences of their own forward pass)? Then the forward is what is wrong."""
    passes = (lab.case.details or {}).get("passes") or []
    if not passes or passes[0]["data"]["got"] is None or passes[0]["grad"]["got"] is None:
        return False
    out = sum(not isinstance(o, Const) for o in operands) + (upstream is not None)
    if compare.close(passes[0]["data"]["got"][out], passes[0]["data"]["expected"][out]):
        return False
    grads, root = passes[0]["grad"]["got"], graph.passes[0].root
    leaf, slopes = 0, []
    for position, operand in enumerate(operands):
        if isinstance(operand, Const):
            continue
        h = 1e-6 * max(1.0, abs(operand))
        values = []
        for step in (h, -h):
            moved = [*operands[:position], operand + step, *operands[position + 1 :]]
            result = checks.own_engine(
                lab, op_graph(op, *moved, backward=False, upstream=upstream), "your forward"
            )
            if result is None or not isinstance(result[0].data[root], float):
                return False
            values.append(result[0].data[root])
        slope = (values[0] - values[1]) / (2 * h)
        slopes.append(slope)
        if not (
            isinstance(grads[leaf], float) and abs(grads[leaf] - slope) <= 1e-5 * (1 + abs(slope))
        ):
            return False
        leaf += 1
    return any(abs(slope) > 1e-9 for slope in slopes)  # a constant explains no rule


def check_derived(lab, op, *operands):
    """A derived op's grads come from the primitives it is built from and from backward():
    when they differ from torch's, the same op built from primitives on the student's own
    engine says whether the derived op itself is right."""
    lab.case.needs.add("3.1")
    try:
        check_rule(lab, op, *operands)
    except checks.Failure:
        if lab.case.own_forward:
            raise
        graph = derived_graph(op, *operands)
        mine = checks.own_engine(lab, graph, f"{op} written with + and *")
        got = checks.own_engine(lab, op_graph(op, *operands), f"{op}")
        inputs = sum(not isinstance(o, Const) for o in operands)
        lab.case.consistent = (
            mine is not None
            and got is not None
            and all(map(compare.close, got[0].grad[:inputs], mine[0].grad[:inputs]))
        )
        raise


def check_reuse(lab, op, x, upstream=None):
    graph = reuse_graph(op, x, upstream)
    what = f"backward of out = x {'+' if op == 'add' else '*'} x at x={x:g}"
    if upstream is not None:
        lab.case.needs.add("3.1")
        what += f", with out.grad = {upstream:g}"
    rule = f"{RULES[op]}; x is both inputs, so x.grad gets both contributions (+=, not =)"
    checks.graph(lab, graph, fields=("grad",), nodes=1, what=what, rule=rule)


def rule_cases(op, root_cases, upstream_cases, shared=None):
    """The ids: `0.5` (out is the root), `upstream-0.5` (y = out * c), `shared-0.5`
    (y = op(x) + x, for a unary op), `one-pass`."""
    return (
        [pytest.param(args, None, id="-".join(map(str, args))) for args in root_cases]
        + [
            pytest.param(args, c, id="upstream-" + "-".join(map(str, args)))
            for args, c in upstream_cases
        ]
        + (
            []
            if shared is None
            else [pytest.param((SHARED, *shared), None, id="shared-" + "-".join(map(str, shared)))]
        )
        + [pytest.param(None, None, id=ONE_PASS, marks=pytest.mark.costly)]
    )


SHARED = "shared"


def check_shared(lab, op, x, exponent=None):
    """y = op(x) + x: backward() runs op's rule after +'s, and both add to x.grad."""
    lab.case.needs.add("3.1")
    graph = shared_input_graph(op, x, exponent)
    what = f"backward of y = {expression(graph, 1)} + x at x={x:g}"
    rule = f"{RULES[op]}; x also feeds + x, so x.grad gets both contributions (+=, not =)"
    checks.graph(lab, graph, fields=("grad",), nodes=1, what=what, rule=rule)


def check(lab, op, args, upstream, constant_exponent=False):
    if args is not None and args[0] == SHARED:
        check_shared(lab, op, *args[1:])
    elif args is None:
        graph = mixing(op)
        checks.one_pass(
            lab,
            graph,
            what=f"backward() of a {graph.size():,}-node graph of {op} ops",
            rule=f"{RULES[op]}; backward() must visit each node once (see docs/grading.md)",
        )
    elif constant_exponent:
        check_rule(lab, op, args[0], Const(args[1]), upstream=upstream)
    else:
        check_rule(lab, op, *args, upstream=upstream)


@pytest.mark.points(3)
@pytest.mark.task("2.1")
@pytest.mark.parametrize(
    "args, upstream",
    rule_cases("add", [(2.0, -3.0), (-1.5, 4.0)], [((2.0, -3.0), 2.5)])
    + [pytest.param("reuse", None, id="x+x"), pytest.param("reuse", -1.5, id="upstream-x+x")],
)
def test_add(lab, args, upstream):
    """backward of a + b."""
    if args == "reuse":
        check_reuse(lab, "add", 1.25, upstream)
    else:
        check(lab, "add", args, upstream)


@pytest.mark.points(3.5)
@pytest.mark.task("2.2")
@pytest.mark.parametrize(
    "args, upstream",
    rule_cases("mul", [(2.0, -3.0), (-1.5, 4.0), (0.5, 0.25)], [((2.0, -3.0), -1.5)])
    + [pytest.param("reuse", None, id="x*x"), pytest.param("reuse", 2.5, id="upstream-x*x")],
)
def test_mul(lab, args, upstream):
    """backward of a * b."""
    if args == "reuse":
        check_reuse(lab, "mul", -1.75, upstream)
    else:
        check(lab, "mul", args, upstream)


@pytest.mark.points(3.5)
@pytest.mark.task("2.3")
@pytest.mark.parametrize(
    "args, upstream",
    rule_cases(
        "pow",
        [(1.5, 2), (-1.5, 2), (-2.0, 3), (-1.25, -2), (0.7, -1), (2.5, 0.5), (1.3, -1.5)],
        [((1.5, 2), 2.5), ((2.5, 0.5), -1.5)],
        shared=(1.5, 3),
    ),
)
def test_pow(lab, args, upstream):
    """backward of x ** k for constant k (negative and fractional too), and x < 0 with an
    odd k - 1, where x^(k-1) is negative."""
    check(lab, "pow", args, upstream, constant_exponent=True)


@pytest.mark.points(3)
@pytest.mark.task("2.4")
@pytest.mark.parametrize(
    "args, upstream",
    rule_cases("tanh", [(0.5,), (-1.2,), (2.0,)], [((0.5,), 2.5), ((-1.2,), -1.5)], shared=(0.5,)),
)
def test_tanh(lab, args, upstream):
    """backward of tanh(x)."""
    check(lab, "tanh", args, upstream)


@pytest.mark.points(3)
@pytest.mark.task("2.5")
@pytest.mark.parametrize(
    "args, upstream",
    rule_cases("exp", [(0.5,), (-2.0,), (1.3,)], [((0.5,), 2.5), ((1.3,), -1.5)], shared=(0.5,)),
)
def test_exp(lab, args, upstream):
    """backward of exp(x)."""
    check(lab, "exp", args, upstream)


@pytest.mark.points(3.5)
@pytest.mark.task("2.6")
@pytest.mark.parametrize(
    "args, upstream",
    rule_cases(
        "relu", [(-2.0,), (0.0,), (0.5,), (3.7,)], [((1.2,), 2.5), ((-1.5,), 2.5)], shared=(1.2,)
    ),
)
def test_relu(lab, args, upstream):
    """backward of relu(x), on both sides of 0 and at 0 (where torch's derivative is 0)."""
    check(lab, "relu", args, upstream)


@pytest.mark.points(3)
@pytest.mark.task("2.7")
@pytest.mark.parametrize(
    "args, upstream",
    rule_cases("log", [(0.5,), (2.0,), (7.3,)], [((0.5,), 2.5), ((2.0,), -1.5)], shared=(2.0,)),
)
def test_log(lab, args, upstream):
    """backward of log(x), away from 0."""
    check(lab, "log", args, upstream)


@pytest.mark.points(0.5)
@pytest.mark.task("1.8")
@pytest.mark.parametrize("x", [2.5, -1.0])
def test_neg(lab, x):
    """backward of -x."""
    check_derived(lab, "neg", x)


@pytest.mark.points(0.5)
@pytest.mark.task("1.9")
@pytest.mark.parametrize("a, b", [(2.0, -3.0), (-1.5, 4.0)])
def test_sub(lab, a, b):
    """backward of a - b."""
    check_derived(lab, "sub", a, b)


@pytest.mark.points(1)
@pytest.mark.task("1.10")
@pytest.mark.parametrize("a, b", [(2.0, -3.0), (-1.5, 4.0)])
def test_truediv(lab, a, b):
    """backward of a / b."""
    check_derived(lab, "div", a, b)


@pytest.mark.points(0.5)
@pytest.mark.task("1.11")
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_number_on_the_left(lab, op):
    """backward of an op with a plain number on the left (2.5 - x, 2.5 / x, ...)."""
    check_derived(lab, op, Const(2.5), -1.5)
