"""stretch (extra credit): a graph far deeper than Python's recursion limit."""

import pytest

from grader import checks
from grader.probes import Chain

LENGTH = 100_000


@pytest.mark.points(10)
@pytest.mark.task("3.1")
def test_hundred_thousand_op_chain(worker, oracle):
    """backward() of l0 + l1 + ... + l100000 added one by one: every leaf's grad is 1."""
    probe = Chain(tuple(((i % 11) - 5) / 8 for i in range(LENGTH + 1)))
    checks.chain(
        worker,
        oracle,
        probe,
        what=f"backward() of a chain of {LENGTH:,} additions",
        timeout_s=30,
        rule="a recursive topological sort exceeds Python's recursion limit near "
        "1,000 nodes: build the order with an explicit stack",
    )
