"""grader/score.py: pytest-json-report's tests grouped into sections, with their points."""

from __future__ import annotations

import pytest

from grader.score import section_of, tally

SUITES = "suites"  # node ids are relative to the grader package, the suites' rootdir


@pytest.mark.parametrize(
    "nodeid, section",
    [
        (f"{SUITES}/test_backward.py::test_tanh[0.5]", "backward"),
        ("test_nn.py::test_zero_grad", "nn"),
        ("hidden/hidden_test_training.py::test_secret_dataset", "training"),
        (f"{SUITES}/test_stretch.py::test_hundred_thousand_op_chain", "stretch"),
    ],
)
def test_section_of(nodeid: str, section: str) -> None:
    assert section_of(nodeid) == section


def case(nodeid: str, status: str, points: float, **metadata) -> dict:
    """One test as pytest-json-report gives it, with the metadata the grading plugin adds."""
    return {
        "nodeid": f"{SUITES}/{nodeid}",
        "setup": {"duration": 0.001},
        "call": {"duration": 0.02},
        "teardown": {"duration": 0.0},
        "metadata": {
            "status": status,
            "feedback": "" if status == "passed" else "wrong",
            "points": points,
            "task": "2.4",
            "name": "backward of tanh(x)",
            "visibility": "visible",
            **metadata,
        },
    }


def test_points_are_shared_by_cases_and_earned_only_when_passed() -> None:
    third = 3 / 3
    raw = {
        "tests": [
            case("test_backward.py::test_tanh[0.5]", "passed", third),
            case("test_backward.py::test_tanh[-1.2]", "failed", third),
            case("test_backward.py::test_tanh[2.0]", "timeout", third),
            case("test_backward.py::test_add[2.0--3.0]", "passed", 2.5 / 2),
            case("test_backward.py::test_add[-1.5-4.0]", "passed", 2.5 / 2),
            case("test_forward.py::test_add[2.0--3.5]", "passed", 2 / 3),
            case("test_forward.py::test_add[-1.25--4.0]", "passed", 2 / 3),
            case("test_forward.py::test_add[3-4]", "error", 2 / 3),
        ]
    }
    backward, forward = sorted(tally(raw), key=lambda s: s.id)
    assert (backward.score, backward.max_score) == (3.5, 5.5)
    assert (forward.score, forward.max_score) == (1.3333, 2.0)
    assert [t.score for t in backward.tests] == [1.0, 0.0, 0.0, 1.25, 1.25]
    assert [t.max_score for t in forward.tests] == [2 / 3] * 3


def test_sections_come_in_the_fixed_order_with_extra_credit_marked() -> None:
    raw = {
        "tests": [
            case("test_stretch.py::test_hundred_thousand_op_chain", "passed", 10),
            case("test_training.py::test_mse_gradient[number-targets]", "passed", 1),
            case("test_forward.py::test_neg[2.5]", "passed", 0.5),
            case("test_secret.py::test_x", "passed", 1),
        ]
    }
    sections = tally(raw)
    assert [s.id for s in sections] == ["forward", "training", "stretch", "secret"]
    assert [s.extra_credit for s in sections] == [False, False, True, False]
    assert sections[2].title.startswith("Stretch")


def test_a_case_result_keeps_what_the_report_shows() -> None:
    [section] = tally(
        {
            "tests": [
                case(
                    "test_backward.py::test_tanh[0.5]",
                    "failed",
                    1.0,
                    feedback="backward of tanh: expected 1, got 2",
                )
            ]
        }
    )
    [result] = section.tests
    assert result.id == "backward::test_tanh[0.5]"
    assert (result.name, result.task, result.status) == ("backward of tanh(x)", "2.4", "failed")
    assert (result.score, result.max_score) == (0.0, 1.0)
    assert result.feedback == "backward of tanh: expected 1, got 2"
    assert (result.visibility, result.duration_s) == ("visible", 0.021)


def test_a_case_without_metadata_is_an_error_worth_nothing() -> None:
    [section] = tally({"tests": [{"nodeid": f"{SUITES}/test_nn.py::test_zero_grad"}]})
    [result] = section.tests
    assert (result.status, result.score, result.max_score) == ("error", 0.0, 0.0)
    assert tally({"tests": []}) == tally({}) == []
