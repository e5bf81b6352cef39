"""Hidden backward tests: each op's derivative at points drawn from the course's secret seed.

Shipped only to the course's autograder (never in `release`), so answers hard-coded from the
public suite earn nothing here.
"""

import random

import pytest

from grader import checks
from grader.compare import RULES, UPSTREAM, expression
from grader.probes import Const, op_graph, operands_text

OPS = ["add", "mul", "pow", "tanh", "exp", "relu", "log"]
TASKS = {
    "add": "2.1",
    "mul": "2.2",
    "pow": "2.3",
    "tanh": "2.4",
    "exp": "2.5",
    "relu": "2.6",
    "log": "2.7",
}


def secret_operands(op, seed):
    rng = random.Random(f"{seed}-{op}")
    if op in ("add", "mul"):
        return (round(rng.uniform(-3, 3), 3), round(rng.uniform(-3, 3), 3))
    if op == "pow":
        x, k = round(rng.uniform(0.5, 2.5), 3), rng.choice([2, 3, -2, 0.5, 1.5])
        if isinstance(k, int) and rng.random() < 0.5:  # an integer power takes x < 0 too
            x = -x
        return (x, Const(k))
    if op == "log":
        return (round(rng.uniform(0.2, 5), 3),)
    x = round(rng.uniform(-2, 2), 3)
    return (x if abs(x) > 0.05 else 0.5,)


@pytest.mark.hidden
@pytest.mark.points(7)
@pytest.mark.parametrize("upstream", [False, True], ids=["root", "upstream"])
@pytest.mark.parametrize("op", [pytest.param(op, marks=pytest.mark.task(TASKS[op])) for op in OPS])
def test_secret_points(lab, secret_seed, op, upstream):
    """backward of each op at a secret point, as the root and under a secret upstream grad."""
    operands = secret_operands(op, secret_seed)
    c = round(random.Random(f"{secret_seed}-{op}-upstream").uniform(1.2, 3.0), 3)
    graph = op_graph(op, *operands, upstream=c if upstream else None)
    inputs = sum(not isinstance(o, Const) for o in operands)
    out = expression(graph, inputs + upstream)
    what = f"backward of out = {out} at {operands_text(graph, *operands)}"
    rule = RULES[op]
    if upstream:
        lab.case.needs.add("3.1")
        what += f", with out.grad = {c:g}"
        rule += f"; {UPSTREAM}"
    checks.graph(lab, graph, fields=("grad",), nodes=inputs, what=what, rule=rule)
