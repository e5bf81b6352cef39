"""What a test does: run a probe on the worker and on the oracle, compare, explain.

Every way a check can end badly becomes a `Failure` with a status and a sentence for the
student; the plugin turns it into the test's result. Each check also notes, in the test's
`Case`, which earlier tasks it relies on: grader/blame.py uses that to name the task to fix.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from _pytest.outcomes import Failed  # pytest.fail.Exception, named for subclassing

from grader import compare, tasks
from grader.oracle import Oracle
from grader.probes import Chain, Graph, Model, Mse, TrainCheck
from grader.protocol import (
    ChainResult,
    ModelResult,
    MseResult,
    PassResult,
    ProtocolError,
    StudentError,
    SubmissionError,
    parse,
)
from grader.worker import (
    BudgetExhausted,
    Worker,
    WorkerCrashed,
    WorkerTimeout,
    WorkerUnavailable,
)

ONE_PASS_FACTOR = 60
"""backward() of a one-pass graph may take this many times as long as building it..."""
ONE_PASS_S = (1.0, 1.5)
"""...but never less than the first figure (seconds), and building and backward() together
never more than the second: work moved from backward() into building still counts."""


@dataclass
class Case:
    """What one test case learnt besides its verdict, for blame and for the feedback page."""

    needs: set[str] = field(default_factory=set)
    """Earlier tasks the check relies on: when one of them is wrong, this case is blocked."""
    gate: bool = False
    """A one-pass check: its task's points count only when it passes."""
    consistent: bool | None = None
    """After a failure: True when the student's own engine, used the contract's way, gives
    the same numbers (so the task itself is right and an earlier one is wrong)."""
    details: dict | None = None
    """Structured data for the feedback page (compare.details, model and training data)."""
    raised: str | None = None
    """The task named by a stub's NotImplementedError that the check ran into."""
    wrong_at_root: bool = False
    """The first wrong grad, walking from the root, is the root's own."""
    own_forward: bool = False
    """A backward check whose op computes the wrong value, and whose grads are the derivative
    of that wrong value: the forward is what is wrong."""


@dataclass(frozen=True)
class Lab:
    """One test's means: the submission's worker, the oracle, and the case record."""

    worker: Worker
    oracle: Oracle
    case: Case


class Failure(Failed):
    """A test's verdict other than passed, with the feedback a student can act on.

    A pytest outcome without a traceback: the grader's stack means nothing to a student, and
    formatting it for every failing case would cost seconds."""

    def __init__(
        self,
        status: str,
        message: str,
        error: StudentError | None = None,
        whole_submission: bool = False,
    ) -> None:
        super().__init__(message, pytrace=False)
        self.status = status
        self.message = message
        self.error = error
        self.whole_submission = whole_submission
        """The submission as a whole could not run the check (import error, missing name)."""


def fail(message: str) -> None:
    raise Failure("failed", message)


@contextmanager
def checking(what: str) -> Iterator[None]:
    """Turn the submission's errors, timeouts and crashes during `what` into Failures."""
    try:
        yield
    except SubmissionError as exc:
        # The worker's own "missing name" comes as blocked; an exception class of the
        # submission's that is called MissingName is only an error of that case.
        whole = exc.step == "import" or (exc.blocked and exc.error.type == "MissingName")
        raise Failure("error", f"{what}: {explain(exc)}", exc.error, whole) from None
    except WorkerTimeout as exc:
        raise Failure("timeout", f"{what}: {exc} (an infinite loop, or far too slow?)") from None
    except WorkerUnavailable:
        raise  # the grading machine's problem: the plugin reports a grader error
    except WorkerCrashed as exc:
        raise Failure("error", f"{what}: {exc}") from None
    except ProtocolError as exc:
        raise Failure("error", f"{what}: unreadable answer from the worker: {exc}") from None
    except BudgetExhausted as exc:
        raise Failure("skipped", f"not run: {exc}") from None


def explain(exc: SubmissionError) -> str:
    error = exc.error
    if exc.blocked and error.type == "MissingName":
        return f"blocked: your submission defines no {error.message} (see docs/api.md)"
    if exc.step == "import":
        return "blocked: your submission could not be imported (see the problem above)"
    if error.type == "NotImplementedError" and error.task:
        return f"not implemented yet: {error.message}"
    where = f" in {exc.step}" if exc.step.startswith(("node", "backward")) else ""
    return f"your code raised {error}{where}"


def send(worker: Worker, request: dict, timeout_s: float | None = None) -> dict:
    """Send a request once the submission is imported; its reply, not yet checked."""
    load = worker.load()
    if load.import_error is not None:
        raise SubmissionError(load.import_error, "import", blocked=True)
    return worker.request(request, timeout_s)


def ask(worker: Worker, kind: str, request: dict, expect=None, timeout_s=None):
    """Send a request and return the reply checked by the protocol; the submission's own
    errors (import problems included) raise SubmissionError."""
    return parse(kind, send(worker, request, timeout_s), expect)


def graph(
    lab: Lab,
    probe: Graph,
    *,
    fields: tuple[str, ...],
    what: str,
    rule: str | None = None,
    nodes: int | None = None,
    timeout_s: float | None = None,
) -> list[PassResult]:
    """Run `probe` on both sides; fail on the first node (of the first `nodes`) that differs."""
    lab.case.needs |= tasks.needs_of_ops(probe.ops(), rules="grad" in fields)
    with checking(what):
        got = ask(lab.worker, "graph", probe.request(), probe.expect(), timeout_s)
    compare_graph(lab, probe, got, lab.oracle.graph(probe), fields, what, rule, nodes)
    return got


def compare_graph(lab, probe, got, expected, fields, what, rule, nodes=None) -> None:
    for name in fields:
        mismatch = compare.graph_values(probe, got, expected, name, nodes)
        if mismatch is not None:
            lab.case.details = compare.details(probe, got, expected, mismatch)
            lab.case.wrong_at_root = mismatch.node == probe.passes[mismatch.pass_index].root
            guess = (mismatch.local or {}).get("guess")
            fail(
                f"{what}: {mismatch.message}"
                + (f"; {rule}" if rule else "")
                + (f" (it looks as if {guess})" if guess else "")
            )


def one_pass(lab: Lab, probe: Graph, *, what: str, rule: str) -> None:
    """A large graph that backward() must handle in one pass over it.

    The harness times building the graph and its backward() separately. Backpropagation costs
    about as much as the forward pass; re-evaluating the graph for each node (finite
    differences, complex steps) costs the forward pass times the number of nodes, and every
    node's grad is checked, so it cannot stop at a few. The two requests share one budget:
    a submission that starts its backward() while the graph is built gains nothing."""
    lab.case.gate = True
    lab.case.needs |= tasks.needs_of_ops(probe.ops(), rules=True) | {"3.1"}
    low, high = ONE_PASS_S
    with checking(f"{what} (building it: allowed {high:.2g} s)"):
        start = time.monotonic()
        ask(lab.worker, "hold", {**probe.request(), "probe": "hold"}, None, high)
        built = time.monotonic() - start
    allowance = max(min(high - built, max(low, ONE_PASS_FACTOR * built)), 0.01)
    with checking(
        f"{what} (allowed {allowance:.2g} s: {ONE_PASS_FACTOR}x building the graph, "
        f"{high:.2g} s for both)"
    ):
        got = ask(lab.worker, "release", {"probe": "release"}, probe.expect(), allowance)
    expected = lab.oracle.graph(probe)
    total, want = got[0].grad_sum, expected[0].grad_sum
    if isinstance(want, float) and not compare.close("<none>" if total is None else total, want):
        exp, mine = compare.show_pair(want, "<none>" if total is None else total)
        fail(f"{what}: the sum of every node's grad should be {exp} (torch), got {mine}; {rule}")
    compare_graph(lab, probe, got, expected, ("grad",), what, rule)


def model(lab: Lab, probe: Model, *, what: str) -> tuple[ModelResult, ModelResult]:
    """Run a model probe on both sides; fail if the parameter count is not the contract's."""
    with checking(what):
        reply = send(lab.worker, probe.request())
        got = parse("model", reply)
    expected = lab.oracle.model(probe)
    if got.param_count != expected.param_count:
        fail(
            f"{what}: parameters() returned {got.param_count} Values, expected "
            f"{expected.param_count} (each neuron: its nin weights, then its bias)"
        )
    with checking(what):
        parse("model", reply, probe.expect(got.param_count))
    return got, expected


def numbers(
    what: str,
    label: str,
    got: tuple | None,
    expected: tuple | None,
    rule: str | None = None,
    source: str = "torch",
) -> None:
    """Fail on the first differing number of two equally long sequences; `source` says where
    the expected numbers come from."""
    assert expected is not None
    if got is None or len(got) != len(expected):
        fail(
            f"{what}: expected {len(expected)} numbers for {label}, "
            f"got {0 if got is None else len(got)}"
        )
        return
    mismatch = compare.first_mismatch(position(label, len(expected)), got, expected)
    if mismatch is not None:
        fail(f"{what}: {mismatch.text(source)}" + (f"; {rule}" if rule else ""))


def position(label: str, count: int):
    """Names position i of a sequence: `parameters()[3].grad`, `output 3`, or the lone label."""
    if "[i]" in label:
        return lambda i: label.replace("[i]", f"[{i}]")
    return (lambda i: f"{label} {i}") if count > 1 else (lambda i: label)


def chain(lab: Lab, probe: Chain, *, what: str, rule: str, timeout_s: float) -> None:
    """Run a long chain on both sides; compare the end value and every leaf's grad.

    `rule` also follows a RecursionError: the depth of the chain is what raises one."""
    lab.case.needs |= {"1.1", "2.1"}
    try:
        with checking(what):
            got: ChainResult = ask(
                lab.worker, "chain", probe.request(), {"grads": len(probe.leaves)}, timeout_s
            )
    except Failure as failure:
        if failure.error is None or failure.error.type != "RecursionError":
            raise
        raise Failure(failure.status, f"{failure.message}; {rule}", failure.error) from None
    expected = lab.oracle.chain(probe)
    numbers(what, "end value", (got.root,), (expected.root,))
    numbers(what, "leaf grad", got.grads, expected.grads, rule=rule)


def mse(lab: Lab, probe: Mse, *, what: str) -> tuple[MseResult, MseResult]:
    """Run an mse_loss probe on both sides."""
    n = len(probe.predictions)
    with checking(what):
        got = ask(
            lab.worker,
            "mse",
            probe.request(),
            {"grads": n} | ({"target_grads": n} if probe.value_targets else {}),
        )
    return got, lab.oracle.mse(probe)


def own_engine(lab: Lab, probe: Graph, what: str) -> list[PassResult] | None:
    """The contract's composition run on the student's own engine (no torch): what their
    module should give if it uses their ops as docs/api.md says. None if that fails too."""
    try:
        with checking(what):
            return ask(lab.worker, "graph", probe.request(), probe.expect())
    except Failure:
        return None


def train_check(lab: Lab, probe: TrainCheck, *, what: str) -> None:
    """train() against the contract's steps done with the student's own parts."""
    steps = probe.model.steps
    with checking(what):
        reply = send(lab.worker, probe.request())
        got = parse("train_check", reply)
    count = got.param_count
    expect = {"manual_losses": steps, "manual_params": count, "losses": steps, "params": count}
    with checking(what):
        parse("train_check", reply, expect)
    rule = (
        "each step: predictions, loss = mse_loss(...), model.zero_grad(), loss.backward(), "
        "then p.data -= lr * p.grad for every parameter; return each step's loss.data, "
        "taken before the update"
    )
    source = "the contract's steps on your own engine"
    numbers(what, "loss at step", got.losses, got.manual_losses, rule, source)
    numbers(
        what, "parameters()[i].data after training", got.params, got.manual_params, rule, source
    )
