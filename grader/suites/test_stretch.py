"""stretch (extra credit): graphs far deeper than Python's recursion limit."""

import pytest

from grader import checks
from grader.probes import Chain

LENGTH = 100_000
RULE = ("a recursive topological sort exceeds Python's recursion limit near 1,000 nodes: "
        "build the order with an explicit stack")


@pytest.mark.points(5)
@pytest.mark.task("3.1")
def test_hundred_thousand_multiplications(worker, oracle):
    """backward() of x * c * c * ... (100,000 multiplications in a chain)."""
    probe = Chain("mul", (0.5,) + (1.00001,) * LENGTH)
    checks.chain(worker, oracle, probe, what=f"backward() of a chain of {LENGTH:,} multiplications",
                 rule=RULE, timeout_s=30)


@pytest.mark.points(5)
@pytest.mark.task("3.1")
def test_hundred_thousand_additions(worker, oracle):
    """backward() of l0 + l1 + ... + l100000 added one by one: every leaf's grad is 1."""
    probe = Chain("add", tuple(((i % 11) - 5) / 8 for i in range(LENGTH + 1)))
    checks.chain(worker, oracle, probe, what=f"backward() of a chain of {LENGTH:,} additions",
                 rule=RULE, timeout_s=30)
