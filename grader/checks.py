"""What a test does: run a probe on the worker and on the oracle, compare, explain.

Every way a check can end badly becomes a `Failure` with a status and a sentence for the
student; the plugin turns it into the test's result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from _pytest.outcomes import Failed  # pytest.fail.Exception, named for subclassing

from grader import compare
from grader.oracle import Oracle
from grader.probes import Chain, Graph, Model, Mse, ask, run_graph, run_model
from grader.replies import (
    ModelResult,
    MseResult,
    PassResult,
    StudentError,
    SubmissionError,
    parse_chain,
    parse_mse,
)
from grader.worker import BudgetExhausted, ProtocolError, Worker, WorkerCrashed, WorkerTimeout


class Failure(Failed):
    """A test's verdict other than passed, with the feedback a student can act on.

    A pytest outcome without a traceback: the grader's stack means nothing to a student, and
    formatting it for every failing case would cost seconds."""

    def __init__(self, status: str, message: str, error: StudentError | None = None) -> None:
        super().__init__(message, pytrace=False)
        self.status = status
        self.message = message
        self.error = error


def fail(message: str) -> None:
    raise Failure("failed", message)


@contextmanager
def checking(what: str) -> Iterator[None]:
    """Turn the submission's errors, timeouts and crashes during `what` into Failures."""
    try:
        yield
    except SubmissionError as exc:
        raise Failure("error", f"{what}: {explain(exc)}", exc.error) from None
    except WorkerTimeout as exc:
        raise Failure("timeout", f"{what}: {exc} (an infinite loop, or far too slow?)") from None
    except WorkerCrashed as exc:
        raise Failure("error", f"{what}: {exc}") from None
    except ProtocolError as exc:
        raise Failure("error", f"{what}: unreadable answer from the worker: {exc}") from None
    except BudgetExhausted as exc:
        raise Failure("skipped", f"not run: {exc}") from None


def explain(exc: SubmissionError) -> str:
    error = exc.error
    if error.type == "MissingName":
        return f"blocked: your submission defines no {error.message} (see docs/api.md)"
    if exc.step == "import":
        return f"blocked: your submission could not be imported: {error}"
    if error.type == "NotImplementedError" and error.task:
        return f"not implemented yet: {error.message}"
    where = f" in {exc.step}" if exc.step.startswith(("node", "backward")) else ""
    return f"your code raised {error}{where}"


def graph(
    worker: Worker,
    oracle: Oracle,
    graph: Graph,
    *,
    fields: tuple[str, ...],
    what: str,
    rule: str | None = None,
    nodes: int | None = None,
    timeout_s: float | None = None,
) -> list[PassResult]:
    """Run `graph` on both sides; fail on the first node (of the first `nodes`) that differs."""
    with checking(what):
        got = run_graph(worker, graph, timeout_s)
    expected = oracle.graph(graph)
    for field in fields:
        message = compare.graph_values(graph, got, expected, field, nodes)
        if message is not None:
            fail(f"{what}: {message}" + (f"; {rule}" if rule else ""))
    return got


def model(
    worker: Worker, oracle: Oracle, model: Model, *, what: str, timeout_s: float | None = None
) -> tuple[ModelResult, ModelResult]:
    """Run a model probe on both sides; fail if the parameter count is not the contract's."""
    with checking(what):
        got = run_model(worker, model, timeout_s)
    expected = oracle.model(model)
    if got.param_count != expected.param_count:
        fail(
            f"{what}: parameters() returned {got.param_count} Values, expected "
            f"{expected.param_count} (each neuron: its nin weights, then its bias)"
        )
    return got, expected


def numbers(
    what: str, label: str, got: tuple | None, expected: tuple | None, rule: str | None = None
) -> None:
    """Fail on the first differing number of two equally long sequences."""
    assert expected is not None
    if got is None or len(got) != len(expected):
        fail(
            f"{what}: expected {len(expected)} numbers for {label}, "
            f"got {0 if got is None else len(got)}"
        )
        return
    mismatch = compare.first_mismatch(position(label, len(expected)), got, expected)
    if mismatch is not None:
        fail(f"{what}: {mismatch}" + (f"; {rule}" if rule else ""))


def chain(
    worker: Worker, oracle: Oracle, probe: Chain, *, what: str, rule: str, timeout_s: float
) -> None:
    """Run a long chain on both sides; compare the end value and every leaf's grad.

    `rule` also follows a RecursionError: the depth of the chain is what raises one."""
    try:
        with checking(what):
            got = parse_chain(ask(worker, probe.request(), timeout_s))
    except Failure as failure:
        if failure.error is None or failure.error.type != "RecursionError":
            raise
        raise Failure(failure.status, f"{failure.message}; {rule}", failure.error) from None
    expected = oracle.chain(probe)
    numbers(what, "end value", (got.root,), (expected.root,))
    numbers(what, "leaf grad", got.grads, expected.grads, rule=rule)


def position(label: str, count: int) -> Callable[[int], str]:
    """Names position i of a sequence: `parameters()[3].grad`, `output 3`, or the lone label."""
    if "[i]" in label:
        return lambda i: label.replace("[i]", f"[{i}]")
    return (lambda i: f"{label} {i}") if count > 1 else (lambda i: label)


def mse(worker: Worker, oracle: Oracle, probe: Mse, *, what: str) -> tuple[MseResult, MseResult]:
    """Run an mse_loss probe on both sides."""
    with checking(what):
        got = parse_mse(ask(worker, probe.request()))
    return got, oracle.mse(probe)
