"""grader/replies.py: replies are trusted only as the numbers the harness parsed."""

from __future__ import annotations

import math

import pytest

from grader.probes import Graph, Model, Node, Pass
from grader.replies import (
    SubmissionError,
    parse_chain,
    parse_error,
    parse_model,
    parse_passes,
)
from grader.worker import ProtocolError

ONE_PASS = Graph(leaves=(2.0, 3), passes=(Pass((Node("mul", (0, 1)),), root=2),))


def reply(data: list, grad: list | None) -> dict:
    return {"passes": [{"error": None, "step": None, "data": data, "grad": grad}]}


def test_numbers_in_a_reply_become_floats() -> None:
    [result] = parse_passes(reply([2, 3.0, 6.0], [3, 2, 1.0]), ONE_PASS)
    assert result.data == (2.0, 3.0, 6.0) and result.grad == (3.0, 2.0, 1.0)
    assert all(type(x) is float for x in result.data + result.grad)


@pytest.mark.parametrize(
    "value, parsed",
    [
        (True, "<bool>"),
        (False, "<bool>"),
        ("<list>", "<list>"),
        ("<" + "x" * 100 + ">", "<" + "x" * 39),
    ],
)
def test_what_is_not_a_number_becomes_a_description(value: object, parsed: str) -> None:
    [result] = parse_passes(reply([2.0, 3.0, value], [3.0, 2.0, 1.0]), ONE_PASS)
    assert result.data[2] == parsed and isinstance(result.data[2], str)


def test_nan_is_parsed_but_is_not_a_number() -> None:
    [result] = parse_passes(reply([2.0, 3.0, math.nan], [3.0, 2.0, 1.0]), ONE_PASS)
    assert isinstance(result.data[2], float) and math.isnan(result.data[2])
    assert result.data[0] == 2.0


@pytest.mark.parametrize(
    "bad",
    [
        {"passes": "all good"},
        {"passes": [["not", "an", "object"]]},
        {"passes": []},
        reply([2.0, 3.0], [1.0, 1.0]),
        reply([2.0, 3.0, {"__float__": 6.0}], [3.0, 2.0, 1.0]),
        reply([2.0, 3.0, [6.0]], [3.0, 2.0, 1.0]),
        reply([2.0, 3.0, None], [3.0, 2.0, 1.0]),
        reply([2.0, 3.0, 6.0], None),
    ],
)
def test_a_malformed_reply_is_a_protocol_error(bad: dict) -> None:
    with pytest.raises(ProtocolError):
        parse_passes(bad, ONE_PASS)


def test_a_pass_in_which_the_submission_raised_is_a_submission_error() -> None:
    error = {
        "type": "ZeroDivisionError",
        "message": "float division by zero",
        "file": "exercises/engine.py",
        "line": 12,
        "code": "x / 0",
        "task": None,
    }
    with pytest.raises(SubmissionError) as raised:
        parse_passes({"passes": [{"error": error, "step": "node 2"}]}, ONE_PASS)
    assert raised.value.step == "node 2" and not raised.value.blocked
    assert (
        str(raised.value)
        == "ZeroDivisionError at exercises/engine.py:12 (`x / 0`): float division by zero"
    )


def test_an_error_description_is_parsed_defensively() -> None:
    error = parse_error({"message": "m" * 1000, "line": True, "file": None, "task": 2.4})
    assert (error.type, len(error.message), error.line, error.file, error.task) == (
        "Error",
        500,
        None,
        None,
        "2.4",
    )
    with pytest.raises(ProtocolError):
        parse_error("NotImplementedError")


@pytest.mark.parametrize("count", [True, 3.0, "3", None])
def test_a_count_must_be_an_integer(count: object) -> None:
    with pytest.raises(ProtocolError):
        parse_model({"param_count": count}, Model("Neuron", (3,)))


def test_a_model_reply_keeps_absent_parts_absent() -> None:
    result = parse_model(
        {
            "param_count": 4,
            "outputs": [1, True],
            "output_shape": ["value"],
            "grads": None,
            "input_grads": [[0.5, "<str>"]],
        },
        Model("Neuron", (3,), params=(0.1, 0.2, 0.3, 0.4), inputs=((1.0, 2.0, 3.0),)),
    )
    assert result.param_count == 4 and result.outputs == (1.0, "<bool>")
    assert result.output_shape == ("value",) and result.grads is None
    assert result.input_grads == ((0.5, "<str>"),) and result.losses is None
    with pytest.raises(ProtocolError):
        parse_chain({"root": 1.0, "grads": {"0": 1.0}})


@pytest.mark.parametrize(
    "mode, missing", [("forward", "outputs"), ("backward", "grads"), ("train", "losses")]
)
def test_a_model_reply_without_what_its_mode_needs_is_a_protocol_error(mode, missing) -> None:
    model = Model("Neuron", (1,), params=(0.5, 0.25), inputs=((1.0,),), mode=mode)
    reply = {
        "param_count": 2,
        "outputs": [0.5],
        "output_shape": ["value"],
        "grads": [0.1, 0.2],
        "losses": [0.3],
        "params": [0.5, 0.25],
        missing: None,
    }
    with pytest.raises(ProtocolError, match=missing):
        parse_model(reply, model)


def test_a_submissions_text_cannot_break_lines_or_color_the_terminal() -> None:
    error = parse_error(
        {
            "type": "E",
            "message": "ok\nScore: 100/100\x1b[32m",
            "file": None,
            "line": None,
            "code": None,
            "task": None,
        }
    )
    assert error.message == "ok\\nScore: 100/100\\x1b[32m"
