"""grader/score.py and plugin.split_points: cases as outcomes, points in exact eighths, sections
whose sums are exact in any order."""

from __future__ import annotations

import random
from fractions import Fraction
from functools import reduce

import pytest

from grader.pipeline import SECTION_IDS
from grader.plugin import QUANTUM, split_points
from grader.score import SECTIONS, CaseResult, outcomes, section_of, tally

SUITES = "suites"  # node ids are relative to the grader package, the suites' rootdir


@pytest.mark.parametrize(
    "nodeid, section",
    [
        (f"{SUITES}/test_backward.py::test_tanh[0.5]", "backward"),
        ("test_nn.py::test_zero_grad", "nn"),
        ("hidden/hidden_test_training.py::test_secret_dataset", "training"),
        (f"{SUITES}/test_backprop.py::test_random_graphs[add-6]", "backprop"),
    ],
)
def test_section_of(nodeid: str, section: str) -> None:
    assert section_of(nodeid) == section


def test_the_sections_are_the_pipelines_in_order_with_titles() -> None:
    assert tuple(SECTIONS) == SECTION_IDS
    assert all(SECTIONS[s] for s in SECTION_IDS)


def result(nodeid: str, **metadata) -> dict:
    """One case as GradingPlugin.results holds it."""
    return {"nodeid": f"{SUITES}/{nodeid}", "duration": 0.021234, "metadata": metadata}


def test_an_outcome_keeps_what_the_plugin_recorded() -> None:
    [outcome] = outcomes(
        [
            result(
                "test_backward.py::test_tanh[upstream-0.5]",
                status="failed",
                feedback="backward of tanh: expected 1, got 2",
                points=0.375,
                task="2.4",
                name="backward of tanh(x) [upstream-0.5]",
                visibility="hidden",
                group="suites/test_backward.py::test_tanh",
                needs=["1.4", "2.4", "3.1"],
                gate=False,
                topology=True,
                consistent=False,
                raised="3.1",
                details={"kind": "training", "losses": None, "params": None},
            )
        ]
    )
    assert outcome.id == "backward::test_tanh[upstream-0.5]" and outcome.section == "backward"
    assert (outcome.name, outcome.task, outcome.status) == (
        "backward of tanh(x) [upstream-0.5]",
        "2.4",
        "failed",
    )
    assert (outcome.points, outcome.duration_s, outcome.visibility) == (0.375, 0.0212, "hidden")
    assert outcome.needs == frozenset({"1.4", "2.4", "3.1"})
    assert (outcome.topology, outcome.consistent, outcome.raised) == (True, False, "3.1")
    assert outcome.group == "suites/test_backward.py::test_tanh"
    assert outcome.details == {"kind": "training", "losses": None, "params": None}


def test_a_case_without_metadata_is_an_error_worth_nothing() -> None:
    [outcome] = outcomes([{"nodeid": f"{SUITES}/test_nn.py::test_mlp_forward[tanh-relu]"}])
    assert (outcome.status, outcome.points, outcome.task, outcome.feedback) == (
        "error",
        0.0,
        None,
        "",
    )
    assert outcome.group == "test_mlp_forward" and outcome.needs == frozenset()
    assert (outcome.gate, outcome.topology, outcome.consistent, outcome.raised) == (
        False,
        False,
        None,
        None,
    )
    assert outcomes([]) == []


def case_result(test_id: str, score: float, max_score: float) -> CaseResult:
    return CaseResult(
        test_id, test_id, None, "passed", score, max_score, "", "visible", 0.0, None, None
    )


def test_tally_groups_sections_in_the_fixed_order_then_unknown_ones_by_name() -> None:
    cases = [
        ("training", case_result("training::a", 1.0, 1.0)),
        ("zeta", case_result("zeta::a", 1.0, 1.0)),
        ("forward", case_result("forward::a", 0.5, 2.0)),
        ("alpha", case_result("alpha::a", 0.0, 1.0)),
        ("forward", case_result("forward::b", 0.125, 0.125)),
    ]
    sections = tally(cases)
    assert [s.id for s in sections] == ["forward", "training", "alpha", "zeta"]
    forward = sections[0]
    assert (forward.title, forward.score, forward.max_score) == (SECTIONS["forward"], 0.625, 2.125)
    assert [t.id for t in forward.tests] == ["forward::a", "forward::b"]
    assert sections[2].title == "alpha"
    assert tally([]) == []


# ---- points in exact eighths ----------------------------------------------------------------

POINTS = [n / 2 for n in range(0, 31)] + [0.125, 0.375, 4.625]
CASES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 18, 29, 64]


@pytest.mark.parametrize("points", POINTS)
def test_shares_are_eighths_that_add_up_exactly_in_any_order(points: float) -> None:
    rng = random.Random(f"split-{points}")
    for cases in CASES:
        shares = split_points(points, cases)
        assert len(shares) == cases
        assert all((share * QUANTUM).is_integer() and share >= 0 for share in shares)
        assert shares == sorted(shares, reverse=True), "the larger shares first"
        assert max(shares) - min(shares) <= 1 / QUANTUM
        for _ in range(5):
            rng.shuffle(shares)
            assert reduce(lambda total, share: total + share, shares, 0.0) == points


def test_section_sums_are_exact_in_any_order() -> None:
    """Many tests' shares, summed by tally and by a consumer in a shuffled order, give the
    exact total: what GitHub Classroom's raw additions see."""
    rng = random.Random("sections")
    cases, exact = [], Fraction(0)
    for test in range(200):
        points = rng.randrange(1, 81) / 8
        for number, share in enumerate(split_points(points, rng.randrange(1, 30))):
            cases.append((rng.choice(SECTION_IDS), case_result(f"t{test}[{number}]", share, share)))
            exact += Fraction(share)
    for _ in range(5):
        rng.shuffle(cases)
        sections = tally(cases)
        assert Fraction(sum(s.score for s in sections)) == exact
        assert Fraction(sum(t.score for s in sections for t in s.tests)) == exact
        by_section = {s.id: Fraction(0) for s in sections}
        for section, result in cases:
            by_section[section] += Fraction(result.score)
        assert {s.id: Fraction(s.score) for s in sections} == by_section
