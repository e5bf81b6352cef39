"""Blame: which task each failure belongs to, what it costs, and what to fix first.

The charging rule (docs/grading.md):

1. A failing case is charged to its own task, unless a task it relies on (`needs`) has
   already failed its own cases, or it ran into another task's stub: then it is *blocked* by
   that earlier task, which the report names first.
2. A blocked case keeps its points when its own task was shown right another way: another
   case of the same check passed (one that avoids the failing task, e.g. the linear variant of
   a tanh MLP), or the student's own engine, used the way the contract says, agrees with their
   code (for a backward rule: its grads are the derivative of the student's own, wrong,
   forward). Otherwise it costs them: the failure cannot be separated from the earlier task.
   A case shown right another way is blocked by a task it relies on that fails on small graphs,
   even one judged after it (a rule that forgets out.grad fails only under an upstream grad, which
   needs backward()).
3. A one-pass check (a gate) that fails on its own makes its whole task count for nothing;
   one that fails by time or error (re-evaluating the graph instead of backpropagating) also
   cancels every backward and backprop case relying on that task. A rule's one-pass check is
   excused by a failing backward() (3.1) only when backward() gets some walk wrong (reuse,
   order) on small graphs, or was not too slow itself: numerical differentiation is right on
   small graphs and slow on large ones.

Cases are judged in the order their tasks depend on each other (forward, rules, backward(),
then the cases that need backward(): rules under an upstream grad, nn, training), so a task
is known to be failing before the cases that rely on it are judged.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader import tasks
from grader.score import CaseResult, Outcome

SUBMISSION = "submission"
FAILED = ("failed", "error", "timeout")
GATED_SECTIONS = ("backward", "backprop")


@dataclass(frozen=True)
class RootCause:
    """One entry of "What to fix": a task that is wrong, with the evidence."""

    task: str
    """A task id, or "submission" for a problem that stops the submission as a whole."""
    title: str
    section: str | None
    points_lost: float
    message: str
    """The first failing case's feedback."""
    test: str
    """That case's id."""
    cases: tuple[str, ...]
    """This task's own cases that did not pass (or do not count)."""
    blocks: tuple[str, ...]
    """Later cases blocked by it."""


def blame(outcomes: list[Outcome], problem: str | None) -> tuple[list[CaseResult], list[RootCause]]:
    """Charge every case; return them in their original order, and the root causes in the
    order to fix them. `problem` describes a problem of the submission as a whole."""
    first_blocked, first_failing, *_ = _blocking(outcomes)
    small = {
        str(o.task)
        for o in outcomes
        if o.task in first_failing
        and not o.gate
        and o.status in FAILED
        and o.id not in first_blocked
    }
    blocked_by, failing, cost_failed, walk_failed = _blocking(outcomes, small)
    lost = set(failing)
    tripped = {
        o.task
        for o in outcomes
        if o.task is not None and o.gate and o.status in FAILED and o.id not in blocked_by
    }
    slow = cost_failed - walk_failed
    results = [_charge(o, blocked_by.get(o.id), lost, tripped, slow, outcomes) for o in outcomes]
    return results, _root_causes(outcomes, results, failing, problem)


def _key(outcome: Outcome) -> tuple:
    """Judge a case after every task it relies on: by the latest of its needs and its task;
    among cases with the same latest, those relying on fewer tasks between their own and the
    latest first (zero_grad, 4.1, relies on MLP.__call__, 4.6: the MLP's cases go first)."""
    latest = max((tasks.rank(t) for t in outcome.needs | {outcome.task or ""}), default=(99,))
    own = tasks.rank(outcome.task)
    between = sum(own < tasks.rank(t) <= latest for t in outcome.needs)
    return (latest, own != latest, between, own)


def _blocking(outcomes: list[Outcome], small: set[str] | None = None):
    """Which cases are blocked by which task, each failing task's first own failure, the
    tasks whose one-pass check failed by time or error, and those that got a walk wrong.

    `small`: the tasks failing on their own on a small graph, from a first pass (default:
    every task with a failing case on a small graph). Only they may explain a failure judged
    before them, or a failed one-pass check."""
    blocked_by: dict[str, str] = {}
    failing: dict[str, Outcome] = {}
    cost_failed: set[str] = set()
    walk_failed: set[str] = set()
    """Tasks with a wrong value in a check of backward()'s walk: a real bug in backward(),
    which may make a one-pass check slow too (a missing visited set is exponential)."""
    small_failed = (
        small
        if small is not None
        else {o.task for o in outcomes if o.status in FAILED and not o.gate and o.task is not None}
    )
    forward_failed = {
        o.task for o in outcomes if o.status in FAILED and o.section == "forward" and o.task
    }
    unimplemented = {o.raised for o in outcomes if o.raised and not o.large}
    """Stubs hit on small graphs: a large graph may raise any task's stub on purpose."""
    for outcome in sorted(outcomes, key=_key):  # sorted() is stable: suite order within a key
        if outcome.status == "passed":
            continue
        if outcome.raised == SUBMISSION:
            blocked_by[outcome.id] = SUBMISSION
            continue
        if outcome.gate:
            candidates = [
                t
                for t in outcome.needs
                if t != outcome.task and _excuses(t, outcome, small_failed, walk_failed)
            ]
        elif outcome.own_forward and outcome.task in forward_failed:
            # Its op's forward is wrong: charged in forward (to what its forward relies on).
            candidates = [t for t in outcome.needs if t != outcome.task and t in failing]
            candidates = candidates or [str(outcome.task)]
        else:
            candidates = [t for t in outcome.needs if t != outcome.task and t in failing]
            if not candidates and _shown_right(outcome, outcomes):
                # A task judged later (e.g. a rule under an upstream grad, which needs
                # backward()) explains a check that its other variants pass.
                candidates = [
                    t  # never backward(): it is judged first, on its own evidence
                    for t in outcome.needs
                    if t not in (outcome.task, "3.1") and t in small_failed
                ]
        if (
            outcome.raised
            and outcome.raised != outcome.task
            and outcome.raised in tasks.TASKS
            and (not outcome.gate or outcome.raised in unimplemented)
        ):
            # A gate ran into another task's stub: that excuses it only if small graphs run
            # into it too.
            candidates.append(outcome.raised)
        if candidates:
            blocked_by[outcome.id] = min(candidates, key=tasks.rank)
        elif outcome.status in FAILED and outcome.task is not None:
            failing.setdefault(outcome.task, outcome)
            if outcome.gate and outcome.status in ("timeout", "error"):
                cost_failed.add(outcome.task)
            if outcome.topology and outcome.status == "failed":
                walk_failed.add(outcome.task)
    return blocked_by, failing, cost_failed, walk_failed


def _excuses(task: str, gate: Outcome, small_failed: set[str], walk_failed: set[str]) -> bool:
    """May a failure of `task` explain a failed one-pass check? A wrong backward() only when it
    gets a walk wrong on small graphs (it may be slow too: a missing visited set); any other
    task only when it fails on small graphs and the check gave wrong numbers, not no answer:
    re-evaluating the graph is right on small graphs and too slow on large ones."""
    if task == "3.1":
        return task in walk_failed
    return task in small_failed and gate.status == "failed"


def _charge(
    outcome: Outcome,
    blocker: str | None,
    lost: set[str],
    tripped: set[str],
    cost_failed: set[str],
    outcomes: list[Outcome],
) -> CaseResult:
    status, feedback, score = outcome.status, outcome.feedback, 0.0
    gate = _gate_against(outcome, tripped, cost_failed)
    if gate is not None and outcome.status != "passed" and gate == outcome.task:
        blocker = None  # its own failure, and its task does not count anyway
    elif gate is not None:
        status, blocker = "blocked", gate
        why = "does not backpropagate in one pass" if gate in cost_failed else "fails"
        feedback = f"not counted: Task {gate}'s one-pass check {why} (see its one-pass case); " + (
            outcome.feedback or "this case itself passed"
        )
    elif outcome.status == "passed":
        score = outcome.points
    elif outcome.status == "skipped":
        blocker = None  # not run: it earns nothing, and nothing blocked it
    elif blocker == SUBMISSION:
        status = "blocked"
    elif blocker is not None:
        status = "blocked"
        kept = (blocker in lost or (blocker == outcome.task and outcome.own_forward)) and (
            _shown_right(outcome, outcomes)
        )
        score = outcome.points if kept else 0.0
        if blocker == outcome.task:
            feedback = (
                f"blocked by this op's forward pass (Task {blocker}), which is wrong: fix it "
                f"first. {feedback} (Not charged here: your grads are right for the value "
                "your forward computes.)"
            )
        else:
            feedback = (
                f"blocked by Task {blocker}, {tasks.title(blocker)}: fix it first. {feedback}"
            )
            if kept:
                feedback += f" (Not charged here: this was shown right without Task {blocker}.)"
    return CaseResult(
        id=outcome.id,
        name=outcome.name,
        task=outcome.task,
        status=status,
        score=score,
        max_score=outcome.points,
        feedback=feedback,
        visibility=outcome.visibility,
        duration_s=outcome.duration_s,
        blocked_by=blocker,
        details=outcome.details,
    )


def _gate_against(outcome: Outcome, tripped: set[str], cost_failed: set[str]) -> str | None:
    """The failed one-pass check that cancels this case, if any."""
    if outcome.gate:
        return None
    if outcome.task in tripped:
        return outcome.task
    if outcome.section in GATED_SECTIONS:
        for task in sorted(outcome.needs & cost_failed, key=tasks.rank):
            return task
    return None


def _shown_right(outcome: Outcome, outcomes: list[Outcome]) -> bool:
    """Its own task is shown right another way: by the student's own engine, or by another
    case of the same check."""
    return outcome.consistent is True or _sibling_passed(outcome, outcomes)


def _sibling_passed(outcome: Outcome, outcomes: list[Outcome]) -> bool:
    """Did another case of the same check pass (while the blocking task was wrong)?"""
    return any(
        o.group == outcome.group and o.status == "passed" for o in outcomes if o.id != outcome.id
    )


def _root_causes(
    outcomes: list[Outcome],
    results: list[CaseResult],
    failing: dict[str, Outcome],
    problem: str | None,
) -> list[RootCause]:
    by_id = {o.id: o for o in outcomes}
    groups: dict[str, list[CaseResult]] = {}
    for result in results:
        if result.status == "passed":
            continue
        if result.status == "skipped" and result.blocked_by is None:
            key = SUBMISSION if problem else str(result.task)
        else:
            key = result.blocked_by or str(result.task)
        groups.setdefault(key, []).append(result)
    causes = []
    for task, members in groups.items():
        own = [r for r in members if r.task == task or task == SUBMISSION]
        first = failing.get(task) or by_id[(own or members)[0].id]
        causes.append(
            RootCause(
                task=task,
                title=(problem or "your submission as a whole")
                if task == SUBMISSION
                else tasks.title(task),
                section=tasks.section_of(task),
                points_lost=sum(r.max_score - r.score for r in members),
                message=problem if task == SUBMISSION and problem else first.feedback,
                test=first.id,
                cases=tuple(r.id for r in own),
                blocks=tuple(r.id for r in members if r not in own),
            )
        )
    return sorted(causes, key=lambda c: (c.task != SUBMISSION, tasks.rank(c.task), c.task))
