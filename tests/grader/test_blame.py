"""grader/blame.py: the charging rule, case by case, on outcomes built by hand.

A bug costs points in its own task; a case that relies on a failing earlier task is blocked by
it (and keeps its points when its own task was shown right another way); a failed one-pass
check cancels its task; "What to fix" lists one entry per wrong task, in the order to fix them.
"""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.blame import SUBMISSION, blame
from grader.score import CaseResult, Outcome
from grader.tasks import TASKS, rank

PROBLEM = "SyntaxError at exercises/engine.py:12: expected ':'"
RULE_GATE_NEEDS = ("1.1", "1.2", "2.1", "2.2", "3.1")
"""What a rule's one-pass graph relies on besides its own op: + and * mix it, backward() runs it."""


def case(
    id: str,
    task: str | None,
    status: str = "passed",
    *,
    points: float = 1.0,
    needs: tuple[str, ...] = (),
    gate: bool = False,
    topology: bool = False,
    consistent: bool | None = None,
    raised: str | None = None,
    group: str | None = None,
    own_forward: bool = False,
    large: bool | None = None,
) -> Outcome:
    """One case as the suites leave it; `id` is section::test[case]."""
    return Outcome(
        id=id,
        section=id.split("::", 1)[0],
        name=id,
        task=task,
        status=status,
        points=points,
        feedback="" if status == "passed" else f"{id}: expected 1 (torch), got 2",
        visibility="visible",
        duration_s=0.0,
        group=group or id.split("[", 1)[0],
        needs=frozenset(needs),
        gate=gate,
        large=gate if large is None else large,
        topology=topology,
        consistent=consistent,
        raised=raised,
        own_forward=own_forward,
        details=None,
    )


def charged(outcomes: list[Outcome], problem: str | None = None):
    results, causes = blame(outcomes, problem)
    assert [r.id for r in results] == [o.id for o in outcomes], "results keep the suite order"
    return {r.id: r for r in results}, causes


def verdict(result: CaseResult) -> tuple:
    return (result.status, result.score, result.blocked_by)


TANH_ROOT = "backward::test_tanh[0.5]"
TANH_SECOND = "backward::test_tanh[-1.2]"
TANH_UPSTREAM = "backward::test_tanh[upstream-0.5]"
TANH_GATE = "backward::test_tanh[one-pass]"
TANH_FORWARD = "forward::test_tanh[0.7]"
MLP_TANH = "nn::test_mlp_gradients[tanh-tanh]"
MLP_LINEAR = "nn::test_mlp_gradients[linear-linear]"
MLP_NEEDS = ("1.1", "1.2", "1.4", "2.1", "2.2", "2.4", "3.1", "4.2", "4.3", "4.4", "4.5", "4.7")


def tanh_rule(root="passed", second="passed", upstream="passed", gate="passed") -> list[Outcome]:
    """The cases of Task 2.4, the backward rule of tanh, as test_backward runs them."""
    return [
        case(TANH_FORWARD, "1.4"),
        case(TANH_ROOT, "2.4", root, needs=("1.4", "2.4")),
        case(TANH_SECOND, "2.4", second, needs=("1.4", "2.4")),
        case(TANH_UPSTREAM, "2.4", upstream, needs=("1.4", "2.4", "1.2", "2.2", "3.1")),
        case(TANH_GATE, "2.4", gate, needs=("1.4", "2.4", *RULE_GATE_NEEDS), gate=True),
    ]


# ---- rule 1: own failures, and blocked cases ---------------------------------------------


def test_a_failure_is_charged_to_its_own_task() -> None:
    results, causes = charged(tanh_rule(root="failed"))
    assert verdict(results[TANH_ROOT]) == ("failed", 0.0, None)
    assert results[TANH_ROOT].feedback == f"{TANH_ROOT}: expected 1 (torch), got 2"
    assert verdict(results[TANH_SECOND]) == ("passed", 1.0, None)
    [cause] = causes
    assert (cause.task, cause.section, cause.title) == ("2.4", "backward", TASKS["2.4"].title)
    assert (cause.test, cause.cases, cause.blocks) == (TANH_ROOT, (TANH_ROOT,), ())
    assert cause.message == results[TANH_ROOT].feedback and cause.points_lost == 1.0


def test_a_case_relying_on_a_failing_task_is_blocked_by_it_in_any_suite_order() -> None:
    outcomes = tanh_rule(root="failed") + [case(MLP_TANH, "4.6", "failed", needs=MLP_NEEDS)]
    for seed in range(5):
        random.Random(seed).shuffle(outcomes)
        results, causes = charged(outcomes)
        assert verdict(results[MLP_TANH]) == ("blocked", 0.0, "2.4")
        assert results[MLP_TANH].feedback.startswith(
            f"blocked by Task 2.4, {TASKS['2.4'].title}: fix it first. {MLP_TANH}: expected"
        )
        [cause] = causes
        assert (cause.task, cause.cases, cause.blocks) == ("2.4", (TANH_ROOT,), (MLP_TANH,))
        assert cause.points_lost == 2.0


def test_a_need_that_did_not_fail_blocks_nothing() -> None:
    outcomes = tanh_rule() + [case(MLP_TANH, "4.6", "failed", needs=MLP_NEEDS)]
    results, causes = charged(outcomes)
    assert verdict(results[MLP_TANH]) == ("failed", 0.0, None)
    assert [c.task for c in causes] == ["4.6"]


def test_the_earliest_failing_need_blocks() -> None:
    outcomes = [
        case("forward::test_mul[2.0--3.5]", "1.2", "failed"),
        *tanh_rule(root="failed"),
        case(MLP_TANH, "4.6", "failed", needs=MLP_NEEDS),
    ]
    results, causes = charged(outcomes)
    assert results[MLP_TANH].blocked_by == "1.2"
    assert [c.task for c in causes] == ["1.2", "2.4"]


def test_a_case_that_relies_on_a_later_task_is_judged_after_it() -> None:
    """test_zero_grad (4.1) runs an MLP (4.6): an MLP that raises must not be charged to
    zero_grad, nor listed first under "What to fix"."""
    mlp_needs = ("1.1", "1.2", "1.4", "4.2", "4.3", "4.4", "4.5", "4.7")
    outcomes = [
        case("nn::test_zero_grad", "4.1", "error", needs=(*MLP_NEEDS, "4.6")),
        case("nn::test_mlp_forward[linear-linear]", "4.6", "error", needs=mlp_needs),
    ]
    results, causes = charged(outcomes)
    assert results["nn::test_zero_grad"].blocked_by == "4.6"
    assert [c.task for c in causes] == ["4.6"]


def test_a_rule_that_forgets_out_grad_costs_its_own_points_only() -> None:
    """`self.grad += 1.0` in __add__: right wherever out.grad is 1 (the rule's own root cases),
    wrong under an upstream grad, and in every graph that adds non-root nodes: every one-pass
    graph (their layers add), backprop's graphs of +. backprop's graphs of * pass: backward()
    itself is right; so is tanh's rule. (Graded for real, such an engine first lost 24 points
    in backprop and was sent to Task 3.1, then lost 43: every rule and all of backprop.)"""
    add = ("1.1", "2.1")
    outcomes = [
        case("backward::test_add[2.0--3.0]", "2.1", needs=add),
        case("backward::test_add[x+x]", "2.1", needs=add),
        case("backward::test_add[upstream-2.0--3.0]", "2.1", "failed",
             needs=(*add, "1.2", "2.2", "3.1")),
        case("backward::test_add[one-pass]", "2.1", "failed", needs=(*add, "3.1"), gate=True),
        *tanh_rule(gate="failed"),
        case("backprop::test_reused_nodes[c+c]", "3.1", "failed", needs=add, topology=True),
        case("backprop::test_reused_nodes[c*c]", "3.1", needs=("1.2", "2.2"), topology=True),
        case("backprop::test_one_pass[add]", "3.1", "failed", needs=(*add, "3.1"), gate=True),
        case("backprop::test_one_pass[mul]", "3.1", needs=("1.2", "2.2", "3.1"), gate=True),
    ]  # fmt: skip
    results, causes = charged(outcomes)
    assert [c.task for c in causes] == ["2.1"]
    for kept in (TANH_ROOT, TANH_UPSTREAM, "backprop::test_reused_nodes[c*c]"):
        assert results[kept].score == 1.0, kept
    assert results["backprop::test_one_pass[mul]"].score == 1.0
    for blocked in ("backprop::test_reused_nodes[c+c]", "backprop::test_one_pass[add]", TANH_GATE):
        assert results[blocked].blocked_by == "2.1", blocked


# ---- rule 2: a blocked case keeps its points when its task was shown right -----------------


def test_a_blocked_case_keeps_its_points_when_a_case_of_its_check_passed() -> None:
    outcomes = tanh_rule(root="failed") + [
        case(MLP_TANH, "4.6", "failed", needs=MLP_NEEDS),
        case(MLP_LINEAR, "4.6", needs=("1.1", "1.2", "2.1", "2.2", "3.1")),
    ]
    results, causes = charged(outcomes)
    assert verdict(results[MLP_TANH]) == ("blocked", 1.0, "2.4")
    assert "(Not charged here: this was shown right without Task 2.4.)" in (
        results[MLP_TANH].feedback
    )
    [cause] = causes
    assert cause.blocks == (MLP_TANH,) and cause.points_lost == 1.0


def test_a_blocked_case_keeps_its_points_when_its_own_engine_agrees() -> None:
    outcomes = tanh_rule(root="failed") + [
        case(MLP_TANH, "4.6", "failed", needs=MLP_NEEDS, consistent=True)
    ]
    assert verdict(charged(outcomes)[0][MLP_TANH]) == ("blocked", 1.0, "2.4")


def test_a_blocked_case_costs_its_points_otherwise() -> None:
    for consistent in (None, False):
        outcomes = tanh_rule(root="failed") + [
            case(MLP_TANH, "4.6", "failed", needs=MLP_NEEDS, consistent=consistent),
            case("nn::test_layer_forward[1]", "4.4"),  # passed, but another check
        ]
        results, _ = charged(outcomes)
        assert verdict(results[MLP_TANH]) == ("blocked", 0.0, "2.4")
        assert "Not charged" not in results[MLP_TANH].feedback


def test_a_case_that_did_not_run_earns_nothing_blocked_or_not() -> None:
    """A skipped case (the time budget ran out) was not shown right: another failing task
    must not turn it into points."""
    outcomes = tanh_rule(root="failed") + [
        case(MLP_TANH, "4.6", "skipped", needs=MLP_NEEDS),
        case(MLP_LINEAR, "4.6", needs=("1.1", "1.2")),
        case("nn::test_mlp_gradients[relu-linear]", "4.6", "skipped", needs=("1.1", "1.2")),
    ]
    results, _ = charged(outcomes)
    assert results["nn::test_mlp_gradients[relu-linear]"].score == 0.0
    assert results[MLP_TANH].score == 0.0


def test_grads_that_follow_a_wrong_forward_are_charged_in_forward() -> None:
    """A backward case whose op computes the wrong value, with grads that are the derivative
    of that value: the rule is right; the forward task pays, once."""
    outcomes = [
        case(TANH_FORWARD, "1.4", "failed"),
        case(TANH_ROOT, "2.4", "failed", needs=("1.4", "2.4"), consistent=True, own_forward=True),
        case("forward::test_sub[2.0--3.5]", "1.9", "failed"),
        case("backward::test_sub[2.0--3.0]", "1.9", "failed", needs=("1.1", "1.2", "1.8", "1.9"),
             consistent=True, own_forward=True),
    ]  # fmt: skip
    results, causes = charged(outcomes)
    assert verdict(results[TANH_ROOT]) == ("blocked", 1.0, "1.4")
    assert results["backward::test_sub[2.0--3.0]"].score == 1.0
    assert [c.task for c in causes] == ["1.4", "1.9"]
    assert [c.points_lost for c in causes] == [1.0, 1.0]


# ---- a stub's NotImplementedError, and the submission as a whole ----------------------------


def test_running_into_another_tasks_stub_blocks_by_that_task() -> None:
    outcomes = [
        case("backprop::test_root_grad_is_one[add]", "3.1", "error", raised="3.1"),
        case(TANH_UPSTREAM, "2.4", "error", raised="3.1", needs=("1.4", "2.4")),
        case(TANH_ROOT, "2.4", "error", raised="2.4"),
        case("backward::test_exp[0.5]", "2.5", "error", raised="9.9"),
    ]
    results, causes = charged(outcomes)
    assert verdict(results[TANH_UPSTREAM]) == ("blocked", 0.0, "3.1")
    assert verdict(results[TANH_ROOT]) == ("error", 0.0, None)
    assert verdict(results["backward::test_exp[0.5]"]) == ("error", 0.0, None)
    assert [c.task for c in causes] == ["2.4", "2.5", "3.1"]
    assert causes[2].blocks == (TANH_UPSTREAM,)


def test_a_stub_blocks_without_keeping_points_unless_its_task_lost_some() -> None:
    """Kept points need the blocker to be shown wrong on its own cases."""
    stubbed = case(TANH_UPSTREAM, "2.4", "error", raised="3.1", group="g", consistent=True)
    sibling = case(TANH_ROOT, "2.4", group="g")
    results, causes = charged([stubbed, sibling])
    assert verdict(results[TANH_UPSTREAM]) == ("blocked", 0.0, "3.1")
    assert [(c.task, c.cases, c.blocks) for c in causes] == [("3.1", (), (TANH_UPSTREAM,))]
    backward = case("backprop::test_root_grad_is_one[add]", "3.1", "error", raised="3.1")
    results, _ = charged([stubbed, sibling, backward])
    assert verdict(results[TANH_UPSTREAM]) == ("blocked", 1.0, "3.1")


def test_a_problem_of_the_whole_submission_blocks_its_cases_and_comes_first() -> None:
    outcomes = [
        case("forward::test_add[3-4]", "1.1", "error", raised=SUBMISSION, consistent=True),
        case("forward::test_add[2.0--3.5]", "1.1"),
        case(TANH_ROOT, "2.4", "failed"),
        case("nn::test_zero_grad", "4.1", "skipped"),
    ]
    results, causes = charged(outcomes, PROBLEM)
    assert verdict(results["forward::test_add[3-4]"]) == ("blocked", 0.0, SUBMISSION)
    assert [c.task for c in causes] == [SUBMISSION, "2.4"]
    first = causes[0]
    assert (first.title, first.message, first.section) == (PROBLEM, PROBLEM, None)
    assert first.cases == ("forward::test_add[3-4]", "nn::test_zero_grad")
    assert first.blocks == () and first.points_lost == 2.0


# ---- rule 3: one-pass checks ----------------------------------------------------------------


def test_a_failing_one_pass_check_cancels_its_task_alone() -> None:
    outcomes = tanh_rule(gate="failed") + [
        case("backprop::test_random_graphs[tanh]", "3.1", needs=("1.4", "2.4")),
        case(MLP_TANH, "4.6", needs=MLP_NEEDS),
    ]
    results, causes = charged(outcomes)
    assert verdict(results[TANH_GATE]) == ("failed", 0.0, None)
    for other in (TANH_ROOT, TANH_SECOND, TANH_UPSTREAM):
        assert verdict(results[other]) == ("blocked", 0.0, "2.4")
        assert results[other].feedback == (
            "not counted: Task 2.4's one-pass check fails (see its one-pass case); "
            "this case itself passed"
        )
    assert verdict(results["backprop::test_random_graphs[tanh]"]) == ("passed", 1.0, None)
    assert verdict(results[MLP_TANH]) == ("passed", 1.0, None)
    assert verdict(results[TANH_FORWARD]) == ("passed", 1.0, None)
    [cause] = causes
    assert cause.task == "2.4" and cause.test == TANH_GATE and cause.points_lost == 4.0
    assert set(cause.cases) == {TANH_ROOT, TANH_SECOND, TANH_UPSTREAM, TANH_GATE}


def test_a_one_pass_check_that_fails_by_time_also_cancels_backward_and_backprop_cases() -> None:
    for status in ("timeout", "error"):
        outcomes = tanh_rule(gate=status) + [
            case("backprop::test_random_graphs[tanh]", "3.1", needs=("1.4", "2.4")),
            case("backward::test_derived[tanh]", "1.8", needs=("1.8", "2.4")),
            case(MLP_TANH, "4.6", needs=MLP_NEEDS),
            case("training::test_train_loss_history[seed]", "5.2", needs=("2.4", "3.1")),
        ]
        results, causes = charged(outcomes)
        assert verdict(results[TANH_ROOT]) == ("blocked", 0.0, "2.4")
        for cancelled in ("backprop::test_random_graphs[tanh]", "backward::test_derived[tanh]"):
            assert verdict(results[cancelled]) == ("blocked", 0.0, "2.4")
            assert "does not backpropagate in one pass" in results[cancelled].feedback
        assert verdict(results[MLP_TANH]) == ("passed", 1.0, None)
        assert verdict(results["training::test_train_loss_history[seed]"])[1] == 1.0
        [cause] = causes
        assert "backprop::test_random_graphs[tanh]" in cause.blocks
        assert cause.points_lost == 6.0


def test_a_stub_raised_only_on_large_graphs_excuses_no_one_pass_check() -> None:
    """A submission that raises Task 1.7's stub on large graphs alone (its log works on small
    ones) cannot pass its one-pass checks off as blocked; a stub small graphs hit can."""
    chain = case("backprop::test_hundred_thousand_op_chain", "3.1", "error", raised="1.7")
    for small_raises, cancelled in ((False, True), (True, False)):
        outcomes = tanh_rule()[:-1] + [
            case(TANH_GATE, "2.4", "error", needs=("1.4", "2.4"), gate=True, raised="1.7"),
            case(
                "forward::test_log[0.5]",
                "1.7",
                "error" if small_raises else "passed",
                raised="1.7" if small_raises else None,
            ),
            dataclasses.replace(chain, large=True),
        ]
        results, _ = charged(outcomes)
        assert (verdict(results[TANH_ROOT])[1] == 0.0) is cancelled
        assert (results[TANH_GATE].blocked_by == "1.7") is not cancelled


def test_a_one_pass_check_blocked_by_a_failing_forward_cancels_nothing() -> None:
    outcomes = tanh_rule(gate="failed")
    outcomes[0] = case(TANH_FORWARD, "1.4", "failed")
    results, causes = charged(outcomes)
    assert results[TANH_GATE].status == "blocked" and results[TANH_GATE].blocked_by == "1.4"
    assert results[TANH_GATE].score == 1.0, "kept: the rule's own cases passed"
    assert verdict(results[TANH_ROOT]) == ("passed", 1.0, None)
    assert [c.task for c in causes] == ["1.4"] and causes[0].blocks == (TANH_GATE,)


def backward_cases(*, gate: str, walk: str, other: str = "passed") -> list[Outcome]:
    """Task 3.1's cases: a walk check (topology), another check, and its one-pass check."""
    return [
        case("backprop::test_reused_nodes[c*c]", "3.1", walk, needs=("1.2", "2.2"), topology=True),
        case("backprop::test_hundred_thousand_op_chain", "3.1", other, needs=("1.1", "2.1")),
        case("backprop::test_one_pass[mul]", "3.1", gate, needs=("1.2", "2.2", "3.1"), gate=True),
    ]


def test_numerical_differentiation_earns_nothing_in_backward_or_backprop() -> None:
    """Right on small graphs, too slow on large ones: every one-pass check times out."""
    outcomes = tanh_rule(gate="timeout") + backward_cases(gate="timeout", walk="passed")
    outcomes.append(case(MLP_TANH, "4.6", needs=MLP_NEEDS))
    results, causes = charged(outcomes)
    for result in results.values():
        if result.id.startswith(("backward::", "backprop::")):
            assert result.score == 0.0, result.id
    assert results[MLP_TANH].score == results[TANH_FORWARD].score == 1.0
    assert [c.task for c in causes] == ["2.4", "3.1"]


def test_a_backward_that_gets_a_walk_wrong_excuses_the_rules_one_pass_checks() -> None:
    """A missing visited set: wrong on small graphs of reuse, exponential on large ones."""
    outcomes = tanh_rule(gate="timeout") + backward_cases(gate="timeout", walk="failed")
    results, causes = charged(outcomes)
    assert (results[TANH_GATE].status, results[TANH_GATE].blocked_by) == ("blocked", "3.1")
    assert verdict(results[TANH_ROOT]) == ("passed", 1.0, None)
    assert verdict(results[TANH_UPSTREAM]) == ("passed", 1.0, None)
    assert [c.task for c in causes] == ["3.1"]


def test_a_backward_wrong_only_elsewhere_excuses_no_rules_one_pass_check() -> None:
    """Only a wrong walk explains a rule's failed one-pass check (docs/grading.md): a
    backward() that fails the 100,000-op chain alone does not."""
    for gate in ("passed", "failed"):
        outcomes = tanh_rule(gate="failed") + backward_cases(
            gate=gate, walk="passed", other="error"
        )
        results, causes = charged(outcomes)
        assert verdict(results[TANH_GATE]) == ("failed", 0.0, None), gate
        assert verdict(results[TANH_ROOT]) == ("blocked", 0.0, "2.4")
        assert [c.task for c in causes] == ["2.4", "3.1"]


def test_a_slow_backward_excuses_no_rules_one_pass_check() -> None:
    outcomes = tanh_rule(gate="timeout") + backward_cases(
        gate="timeout", walk="passed", other="error"
    )
    results, causes = charged(outcomes)
    assert verdict(results[TANH_GATE]) == ("timeout", 0.0, None)
    assert verdict(results[TANH_ROOT]) == ("blocked", 0.0, "2.4")
    assert [c.task for c in causes] == ["2.4", "3.1"]


def test_a_correct_but_slowish_backward_keeps_every_point() -> None:
    """A visited list instead of a set is about 10x slower: within the one-pass allowance."""
    outcomes = tanh_rule() + backward_cases(gate="passed", walk="passed")
    results, causes = charged(outcomes)
    assert all(r.score == r.max_score == 1.0 for r in results.values()) and causes == []


# ---- "What to fix" ----------------------------------------------------------------------------


def test_root_causes_come_in_task_order_after_the_submission() -> None:
    outcomes = [
        case("backprop::test_root_grad_is_one[add]", "3.1", "failed"),
        case("forward::test_truediv[3-4]", "1.10", "failed", points=0.5),
        case("forward::test_mul[3-4]", "1.2", "failed", points=0.25),
        case("forward::test_mul[2.0--3.5]", "1.2", "timeout", points=0.25),
        case("forward::test_add[3-4]", "1.1", "error", raised=SUBMISSION),
        case("nn::test_mlp_forward[linear-linear]", "4.6", "failed", needs=("1.2",)),
    ]
    results, causes = charged(outcomes, PROBLEM)
    assert [c.task for c in causes] == [SUBMISSION, "1.2", "1.10", "3.1"]
    mul = causes[1]
    assert mul.cases == ("forward::test_mul[3-4]", "forward::test_mul[2.0--3.5]")
    assert mul.blocks == ("nn::test_mlp_forward[linear-linear]",)
    assert mul.points_lost == 1.5 and mul.test == "forward::test_mul[3-4]"
    assert mul.message == results["forward::test_mul[3-4]"].feedback
    assert sum(c.points_lost for c in causes) == sum(
        r.max_score - r.score for r in results.values()
    )


def test_nothing_to_fix_when_everything_passed() -> None:
    results, causes = charged(tanh_rule())
    assert causes == [] and all(r.status == "passed" for r in results.values())


SECTION_OF = {"1": "forward", "2": "backward", "3": "backprop", "4": "nn", "5": "training"}


@st.composite
def outcome_lists(draw) -> list[Outcome]:
    ids = sorted(TASKS)
    outcomes = []
    for number in range(draw(st.integers(1, 25))):
        task = draw(st.sampled_from(ids))
        outcomes.append(
            case(
                f"{SECTION_OF[task[0]]}::test_{task}[{number}]",
                task,
                draw(st.sampled_from(["passed", "failed", "error", "timeout", "skipped"])),
                points=draw(st.integers(0, 24)) / 8,
                needs=tuple(draw(st.sets(st.sampled_from(ids), max_size=4))),
                gate=draw(st.booleans()),
                topology=draw(st.booleans()),
                consistent=draw(st.sampled_from([None, True, False])),
                raised=draw(st.sampled_from([None, None, None, task, "3.1", SUBMISSION])),
                group=f"g{draw(st.integers(0, 3))}",
            )
        )
    return outcomes


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(outcome_lists(), st.sampled_from([None, PROBLEM]))
def test_every_case_is_charged_once_and_the_points_add_up(outcomes, problem) -> None:
    results, causes = charged(outcomes, problem)
    for result in results.values():
        assert 0 <= result.score <= result.max_score
        assert (result.blocked_by is not None) == (result.status == "blocked")
        if result.status == "passed":
            assert result.score == result.max_score
    listed = [i for c in causes for i in c.cases + c.blocks]
    assert sorted(listed) == sorted(r.id for r in results.values() if r.status != "passed")
    assert sum(c.points_lost for c in causes) == sum(
        r.max_score - r.score for r in results.values()
    )
    keys = [(c.task != SUBMISSION, rank(c.task)) for c in causes]
    assert keys == sorted(keys)
