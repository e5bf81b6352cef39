"""grader/protocol.py: every worker reply is checked against its declared shape, once."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from grader import protocol
from grader.probes import Model
from grader.protocol import (
    API_NAMES,
    MAX_CELL_ERRORS,
    MAX_ITEMS,
    REPLIES,
    ChainResult,
    Hello,
    Load,
    ModelResult,
    MseResult,
    PassResult,
    ProtocolError,
    StudentError,
    SubmissionError,
    TrainCheck,
    decode,
    parse,
    printable,
)

SANDBOX = Path(protocol.__file__).with_name("sandbox")
ERROR = {
    "type": "ZeroDivisionError",
    "message": "float division by zero",
    "file": "exercises/engine.py",
    "line": 12,
    "code": "x / 0",
    "task": None,
}
PASS = {"error": None, "step": None, "data": [2.0, 3, 6.0], "grad": [3.0, 2.0, 1.0], "grad_sum": 6}
WELL_FORMED = {
    "hello": {"ready": True, "limits": {"landlock": True, "pid_namespace": False}},
    "load": {
        "names": list(API_NAMES),
        "import_error": None,
        "cell_errors": [ERROR],
        "cell_error_count": 3,
    },
    "error": {"error": ERROR, "where": "graph"},
    "graph": {"passes": [PASS]},
    "release": {"passes": [PASS]},
    "hold": {"held": 3},
    "chain": {"root": 3.0, "grads": [1.0, 1, 1.0]},
    "model": {
        "param_count": 4,
        "outputs": [0.5],
        "output_shape": ["value"],
        "grads": [0.1, 0.2, 0.3, 0.4],
        "input_grads": [[0.5, -0.25, 1.0]],
        "losses": None,
        "params": None,
    },
    "neuron_parts": {"w": [0.1, 0.2, 0.3], "b": 0.4, "params": [0.1, 0.2, 0.3, 0.4]},
    "parameters": {"params": [0.5, -0.5]},
    "mse": {"loss": 1.0, "grads": [0.5, -0.5], "target_grads": None},
    "train_check": {
        "param_count": 2,
        "manual_losses": [1.0, 0.5],
        "manual_params": [0.1, 0.2],
        "losses": [1.0, 0.5],
        "params": [0.1, 0.2],
    },
}
PROBES = sorted(set(REPLIES) - {"error"})
"""Kinds of probe a reply answers (an `error` reply answers any of them but hello and load)."""
MAY_FAIL = [kind for kind in PROBES if kind not in ("hello", "load")]


def well_formed(kind: str) -> dict:
    return copy.deepcopy(WELL_FORMED[kind])


def parent(reply: dict, path: tuple):
    """A copy of `reply`, the object or list that holds `path` in it, and the last step."""
    reply = copy.deepcopy(reply)
    *steps, last = path
    holder = reply
    for step in steps:
        holder = holder[step]
    return reply, holder, last


def with_value(reply: dict, path: tuple, value: object) -> dict:
    """`reply` with the value at `path` (keys and list indices) replaced."""
    reply, holder, last = parent(reply, path)
    holder[last] = value
    return reply


def without(reply: dict, path: tuple) -> dict:
    reply, holder, last = parent(reply, path)
    del holder[last]
    return reply


def fields(value: object, path: tuple = ()) -> list[tuple]:
    """The path of every declared field in a well-formed reply (a Map's names are not fields)."""
    found = []
    if isinstance(value, dict) and path[-1:] != ("limits",):
        for key, item in value.items():
            found += [(*path, key), *fields(item, (*path, key))]
    elif isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        found += fields(value[0], (*path, 0))
    return found


FIELDS = [(kind, path) for kind in sorted(WELL_FORMED) for path in fields(WELL_FORMED[kind])]


def check(kind: str, reply: dict, expect: dict | None = None):
    """parse() as the harness calls it; an `error` reply is checked through a graph probe."""
    return parse("graph" if kind == "error" else kind, reply, expect)


# ---- every shape accepts what it declares -------------------------------------------------


def test_every_declared_reply_has_a_well_formed_example_here() -> None:
    assert set(WELL_FORMED) == set(REPLIES)


def test_every_public_name_exists() -> None:
    assert all(hasattr(protocol, name) for name in protocol.__all__)


def test_well_formed_replies_become_their_dataclasses() -> None:
    assert parse("hello", well_formed("hello")) == Hello({"landlock": True, "pid_namespace": False})
    load = parse("load", well_formed("load"))
    assert isinstance(load, Load) and load.names == frozenset(API_NAMES)
    assert load.import_error is None and load.cell_error_count == 3
    assert load.cell_errors == (StudentError(**ERROR),)
    for kind in ("graph", "release"):
        assert parse(kind, well_formed(kind)) == [PassResult((2.0, 3.0, 6.0), (3.0, 2.0, 1.0), 6.0)]
    assert parse("hold", well_formed("hold")) == 3
    assert parse("chain", well_formed("chain")) == ChainResult(3.0, (1.0, 1.0, 1.0))
    assert parse("model", well_formed("model")) == ModelResult(
        4, (0.5,), ("value",), (0.1, 0.2, 0.3, 0.4), ((0.5, -0.25, 1.0),), None, None
    )
    parts = parse("neuron_parts", well_formed("neuron_parts"))
    assert (parts["w"], parts["b"], parts["params"]) == ((0.1, 0.2, 0.3), 0.4, (0.1, 0.2, 0.3, 0.4))
    assert parse("parameters", well_formed("parameters")) == (0.5, -0.5)
    assert parse("mse", well_formed("mse")) == MseResult(1.0, (0.5, -0.5), None)
    assert parse("train_check", well_formed("train_check")) == TrainCheck(
        2, (1.0, 0.5), (0.1, 0.2), (1.0, 0.5), (0.1, 0.2)
    )


def test_numbers_become_floats_and_nan_stays_a_float() -> None:
    reply = with_value(
        well_formed("graph"), ("passes", 0, "data"), [2, 10**308, math.nan, -math.inf]
    )
    [result] = parse("graph", reply)
    assert all(type(x) is float for x in result.data + result.grad + (result.grad_sum,))
    assert result.data[:2] == (2.0, 1e308)
    assert math.isnan(result.data[2]) and result.data[3] == -math.inf


def test_extra_keys_are_ignored() -> None:
    reply = {**well_formed("chain"), "surprise": {"deep": [1, 2]}, "seq": 4}
    assert parse("chain", reply) == ChainResult(3.0, (1.0, 1.0, 1.0))


def test_load_may_name_fewer_api_names_and_counts_at_least_the_cell_errors_it_lists() -> None:
    reply = with_value(well_formed("load"), ("names",), ["Value", "Value"])
    reply["cell_errors"], reply["cell_error_count"] = [ERROR, ERROR], 0
    load = parse("load", reply)
    assert load.names == frozenset({"Value"}) and load.cell_error_count == 2


def test_a_load_reply_with_an_error_key_is_still_a_load_reply() -> None:
    """`error` replies answer probes; the load reply carries its own import_error."""
    reply = {**well_formed("load"), "error": ERROR}
    assert parse("load", reply).names == frozenset(API_NAMES)


# ---- and rejects what it does not --------------------------------------------------------


@pytest.mark.parametrize(
    "kind, path", FIELDS, ids=[f"{k}-{'.'.join(map(str, p))}" for k, p in FIELDS]
)
def test_a_missing_field_is_a_protocol_error(kind: str, path: tuple) -> None:
    with pytest.raises(ProtocolError):
        check(kind, without(well_formed(kind), path))


@pytest.mark.parametrize(
    "kind, path", FIELDS, ids=[f"{k}-{'.'.join(map(str, p))}" for k, p in FIELDS]
)
def test_a_field_of_the_wrong_type_is_a_protocol_error(kind: str, path: tuple) -> None:
    with pytest.raises(ProtocolError):
        check(kind, with_value(well_formed(kind), path, {"__float__": 1.0}))


@pytest.mark.parametrize("value", [[], "ok", 3.0, True, [PASS]], ids=repr)
def test_a_pass_or_an_error_that_is_not_an_object_is_a_protocol_error(value: object) -> None:
    with pytest.raises(ProtocolError):
        parse("graph", {"passes": [value]})
    with pytest.raises(ProtocolError):
        parse("graph", {"error": value, "where": "graph"})


FOREIGN = [
    (kind, other)
    for kind in PROBES
    for other in sorted(WELL_FORMED)
    if REPLIES[kind] is not REPLIES[other] and not set(WELL_FORMED[kind]) <= set(WELL_FORMED[other])
]
"""(probe, another probe's reply) where that reply lacks a key of the probe's (extra keys are
ignored, so a reply holding every key of another shape fits it)."""


@pytest.mark.parametrize("kind, other", FOREIGN)
def test_a_reply_meant_for_another_probe_is_a_protocol_error(kind: str, other: str) -> None:
    expected = SubmissionError if other == "error" and kind in MAY_FAIL else ProtocolError
    with pytest.raises(expected):
        parse(kind, well_formed(other))


@pytest.mark.parametrize(
    "kind, path",
    [
        ("model", ("param_count",)),
        ("train_check", ("param_count",)),
        ("hold", ("held",)),
        ("load", ("cell_error_count",)),
        ("error", ("error", "line")),
    ],
)
@pytest.mark.parametrize("value", [True, False, 3.0, "3", -1, 10**10], ids=repr)
def test_a_count_must_be_a_plain_integer_in_range(kind: str, path: tuple, value: object) -> None:
    with pytest.raises(ProtocolError):
        check(kind, with_value(well_formed(kind), path, value))


@pytest.mark.parametrize("value", [True, False], ids=repr)
def test_a_bool_is_never_a_number(value: bool) -> None:
    reply = with_value(well_formed("chain"), ("grads",), [1.0, value, 1.0])
    reply["root"] = value
    result = parse("chain", reply)
    assert result.root == "<bool>" and result.grads[1] == "<bool>"


@pytest.mark.parametrize(
    "value", [10**400, -(10**400), 2 * 10**308], ids=["1e400", "-1e400", "2e308"]
)
def test_an_int_too_large_for_a_float_is_a_protocol_error(value: int) -> None:
    with pytest.raises(ProtocolError, match="too large"):
        parse("chain", with_value(well_formed("chain"), ("grads", 1), value))
    with pytest.raises(ProtocolError, match="too large"):
        parse("mse", with_value(well_formed("mse"), ("loss",), value))


@pytest.mark.parametrize(
    "kind, path, value",
    [
        ("chain", ("grads", 0), [1.0]),
        ("chain", ("root",), None),
        ("chain", ("grads", 0), {"value": 1.0}),
        ("model", ("input_grads", 0, 0), [[0.5]]),
        ("model", ("input_grads",), [0.5, -0.25, 1.0]),
        ("graph", ("passes", 0, "data"), [[[[[[2.0]]]]]]),
        ("graph", ("passes",), {"0": PASS}),
        ("load", ("cell_errors", 0, "message"), ["deep"]),
    ],
)
def test_a_list_or_object_where_none_is_declared_is_a_protocol_error(kind, path, value) -> None:
    with pytest.raises(ProtocolError):
        check(kind, with_value(well_formed(kind), path, value))


@pytest.mark.parametrize(
    "kind, path, item, limit",
    [
        ("load", ("names",), "Value", len(API_NAMES)),
        ("load", ("cell_errors",), ERROR, MAX_CELL_ERRORS),
        ("graph", ("passes",), PASS, 64),
        ("model", ("output_shape",), "value", 64),
        ("model", ("input_grads",), [0.5], 64),
        ("neuron_parts", ("w",), 0.5, 10_000),
        ("chain", ("grads",), 1.0, MAX_ITEMS),
        ("hello", ("limits",), None, 64),
    ],
)
def test_lists_are_accepted_up_to_their_limit_and_not_beyond(kind, path, item, limit) -> None:
    def filled(count: int):
        if kind == "hello":
            return {f"limit_{i}": True for i in range(count)}
        return [item] * count

    check(kind, with_value(well_formed(kind), path, filled(limit)))
    with pytest.raises(ProtocolError):
        check(kind, with_value(well_formed(kind), path, filled(limit + 1)))


@pytest.mark.parametrize(
    "names",
    [["Value", "Tensor"], ["value"], [["Value"]], [{"Value": 1}], [None], [True], "Value"],
    ids=repr,
)
def test_load_names_hold_only_api_names(names: object) -> None:
    with pytest.raises(ProtocolError):
        parse("load", with_value(well_formed("load"), ("names",), names))


def test_more_cell_errors_than_reported_one_by_one_is_a_protocol_error() -> None:
    reply = with_value(well_formed("load"), ("cell_errors",), [ERROR] * 1_000)
    with pytest.raises(ProtocolError):
        parse("load", reply)


@pytest.mark.parametrize(
    "kind, path, value",
    [
        ("hello", ("ready",), False),
        ("hello", ("ready",), "True"),
        ("hello", ("limits", "landlock"), 1),
        ("hello", ("limits", "landlock"), "yes"),
        ("model", ("output_shape", 0), "tensor"),
        ("model", ("output_shape", 0), True),
    ],
)
def test_choices_are_exact(kind: str, path: tuple, value: object) -> None:
    with pytest.raises(ProtocolError):
        parse(kind, with_value(well_formed(kind), path, value))


# ---- text: cut and made printable ---------------------------------------------------------

HOSTILE = [
    "\x1b[2J\x1b[32mScore: 100/100\x1b[0m",
    "ok\nScore: 100/100\r",
    "lone \ud800 surrogate",
    "\u202eright to left",
    "bell\x07 null\x00",
    "\u2028line separator",
]


def error_reply(where: str = "graph", **changes) -> dict:
    """An `error` reply: the submission raised while answering a probe."""
    return {"error": {**ERROR, **changes}, "where": where}


def raised(reply: dict) -> SubmissionError:
    with pytest.raises(SubmissionError) as info:
        parse("graph", reply)
    return info.value


def test_escape_codes_and_line_breaks_are_shown_not_obeyed() -> None:
    error = raised(error_reply(message="ok\nScore: 100/100\x1b[32m", code="\ud800")).error
    assert error.message == "ok\\nScore: 100/100\\x1b[32m"
    assert error.code == "\\ud800"


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_every_text_the_worker_sends_comes_out_printable(text: str) -> None:
    exc = raised(
        {
            "error": dict.fromkeys(("type", "message", "file", "code"), text)
            | {"line": 1, "task": text},
            "where": text,
        }
    )
    assert str(exc).isprintable() and exc.step.isprintable()
    assert all(part.isprintable() for part in (exc.error.type, exc.error.file, exc.error.code))
    [result] = parse("graph", with_value(well_formed("graph"), ("passes", 0, "data", 1), text))
    assert result.data[1].isprintable()
    step = raised({"passes": [{**PASS, "error": ERROR, "step": text}]}).step
    assert step.isprintable()
    hello = parse("hello", {"ready": True, "limits": {text: True}})
    assert all(name.isprintable() for name in hello.limits)


def test_printable_leaves_ordinary_text_alone() -> None:
    text = "Value.__add__ raised TypeError: unsupported operand (ü, 中, emoji 🙂)"
    assert printable(text) == text


@pytest.mark.parametrize(
    "field, limit, shown",
    [
        ("type", 100, "type"),
        ("message", 500, "message"),
        ("file", 200, "file"),
        ("code", 200, "code"),
    ],
)
def test_error_texts_are_cut_to_their_limits(field: str, limit: int, shown: str) -> None:
    error = raised(error_reply(**{field: "m" * 10_000})).error
    assert getattr(error, shown) == "m" * limit


def test_where_step_and_descriptions_are_cut_to_40() -> None:
    assert raised(error_reply(where="w" * 1_000)).step == "w" * 40
    assert raised({"passes": [{**PASS, "error": ERROR, "step": "s" * 1_000}]}).step == "s" * 40
    [result] = parse(
        "graph", with_value(well_formed("graph"), ("passes", 0, "data", 1), "<" + "x" * 100)
    )
    assert result.data[1] == "<" + "x" * 39


@pytest.mark.parametrize("fill", ["\x1b", "\ud800", "\U000e0001"], ids=repr)
def test_text_stays_within_its_limit_once_made_printable(fill: str) -> None:
    """A cap that escaping can multiply is no cap: 40 escape codes would become 160 chars."""
    result = parse("chain", with_value(well_formed("chain"), ("grads", 0), fill * 1_000))
    assert len(result.grads[0]) <= 40
    error = raised(error_reply(message=fill * 1_000, where=fill * 1_000))
    assert len(error.error.message) <= 500 and len(error.step) <= 40
    assert len(printable(fill * 1_000, 100)) <= 100


def test_a_protocol_error_never_repeats_the_workers_text_unprintable() -> None:
    """Its message becomes a test's feedback ("unreadable answer from the worker: ...")."""
    with pytest.raises(ProtocolError) as info:
        parse("hello", {"ready": True, "limits": {"\x1b[2J\x1b[32mScore: 100/100": "yes"}})
    assert str(info.value).isprintable()


# ---- error replies -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MAY_FAIL)
def test_an_error_reply_to_any_probe_is_the_submissions_error(kind: str) -> None:
    with pytest.raises(SubmissionError) as info:
        parse(kind, error_reply())
    assert info.value.error == StudentError(**ERROR)
    assert (info.value.step, info.value.blocked) == ("graph", False)
    assert str(info.value) == (
        "ZeroDivisionError at exercises/engine.py:12 (`x / 0`): float division by zero"
    )


def test_an_error_where_blocked_says_so() -> None:
    exc = raised({**error_reply(type="MissingName", message="mse_loss"), "where": "blocked"})
    assert exc.blocked and exc.step == "blocked" and exc.error.type == "MissingName"


@pytest.mark.parametrize("kind", ["hello", "load"])
def test_hello_and_load_cannot_answer_with_an_error_reply(kind: str) -> None:
    with pytest.raises(ProtocolError):
        parse(kind, error_reply())


@pytest.mark.parametrize(
    "reply",
    [
        {"error": "ZeroDivisionError", "where": "graph"},
        {"error": ERROR},
        {"error": {"type": "E", "message": "m"}, "where": "graph"},
        {"error": {**ERROR, "line": "12"}, "where": "graph"},
        {"error": {**ERROR, "message": None}, "where": "graph"},
        {"error": ERROR, "where": None},
    ],
    ids=["text", "no-where", "few-keys", "line-text", "message-null", "where-null"],
)
def test_a_malformed_error_reply_is_a_protocol_error(reply: dict) -> None:
    with pytest.raises(ProtocolError):
        parse("graph", reply)


@pytest.mark.parametrize(
    "task, kept",
    [
        (None, None),
        ("2.4", "2.4"),
        ("10.11", "10.11"),
        ("Task 2.4", None),
        ("2.4.1", None),
        ("2.4\n", None),
        ("x", None),
        ("", None),
    ],
)
def test_a_stubs_task_id_is_kept_only_when_it_is_one(task: str | None, kept: str | None) -> None:
    assert raised(error_reply(type="NotImplementedError", task=task)).error.task == kept


def test_an_error_without_a_type_is_called_error() -> None:
    assert raised(error_reply(type="")).error.type == "Error"


def test_a_pass_that_raised_ends_the_reply_as_the_submissions_error() -> None:
    reply = {"passes": [PASS, {**PASS, "error": ERROR, "step": "node 4", "data": []}]}
    exc = raised(reply)
    assert exc.step == "node 4" and not exc.blocked
    reply["passes"][1]["step"] = None
    assert raised(reply).step == "forward"
    exc = raised({**reply, "passes": [{**PASS, "error": ERROR}]})
    assert exc.step == "forward"


def test_the_workers_own_fallback_error_is_a_valid_error_reply() -> None:
    """serve.send replaces a reply it cannot encode with an error: the protocol must read it
    as the submission's error, not as a broken worker."""
    code = (
        "import io, sys; sys.path.insert(0, sys.argv[1]); import serve; out = io.StringIO(); "
        "serve.send(out, {'seq': 3, 'data': [object()]}); print(out.getvalue(), end='')"
    )
    line = subprocess.run(
        [sys.executable, "-I", "-c", code, str(SANDBOX)],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with pytest.raises(SubmissionError):
        parse("graph", decode(line, 3, "graph"))


# ---- what the request implies (`expect`) --------------------------------------------------


def graph_reply(*passes: dict) -> dict:
    return {"passes": [{**PASS, **p} for p in passes]}


@pytest.mark.parametrize(
    "reply",
    [
        graph_reply({"data": [1.0, 2.0]}),
        graph_reply({"data": [1.0, 2.0, 3.0, 4.0]}),
        graph_reply({"grad": None}),
        graph_reply({"grad": [1.0, 2.0]}),
        graph_reply({}, {}),
        {"passes": []},
    ],
    ids=["short-data", "long-data", "no-grad", "short-grad", "extra-pass", "no-pass"],
)
def test_a_graph_reply_must_hold_each_reported_node(reply: dict) -> None:
    with pytest.raises(ProtocolError):
        parse("graph", reply, {"passes": [(3, True)]})


def test_a_forward_pass_needs_no_grads_and_no_expect_checks_nothing() -> None:
    [result] = parse("graph", graph_reply({"grad": None}), {"passes": [(3, False)]})
    assert result.grad is None
    assert len(parse("graph", graph_reply({"data": [1.0]}, {}))) == 2


def test_a_graph_reply_may_stop_early_only_at_the_submissions_error() -> None:
    expect = {"passes": [(3, True), (3, True)]}
    with pytest.raises(ProtocolError):
        parse("graph", graph_reply({}), expect)
    with pytest.raises(SubmissionError):
        parse("graph", graph_reply({}, {"error": ERROR, "step": "backward", "data": []}), expect)
    with pytest.raises(SubmissionError):
        parse("graph", graph_reply({"error": ERROR, "data": [], "grad": None}), expect)
    assert len(parse("graph", graph_reply({}, {}), expect)) == 2


MODEL = Model(
    "Neuron",
    (3,),
    {},
    (0.1, 0.2, 0.3, 0.4),
    ((0.5, -1.0, 2.0), (1.0, 0.0, -1.0)),
    mode="backward",
    value_inputs=True,
)
MODEL_REPLY = {
    "param_count": 4,
    "outputs": [0.5, -0.5],
    "output_shape": ["value", "value"],
    "grads": [0.1, 0.2, 0.3, 0.4],
    "input_grads": [[0.5, -0.25, 1.0], [0.5, -0.25, 1.0]],
    "losses": None,
    "params": None,
}


def test_a_model_reply_holding_what_the_request_implies_is_accepted() -> None:
    assert MODEL.expect(4) == {"outputs": 2, "output_shape": 2, "grads": 4, "input_grads": (2, 3)}
    assert parse("model", MODEL_REPLY, MODEL.expect(4)).input_grads == (
        (0.5, -0.25, 1.0),
        (0.5, -0.25, 1.0),
    )


@pytest.mark.parametrize(
    "path, value",
    [
        (("outputs",), None),
        (("outputs",), [0.5]),
        (("output_shape",), ["value"]),
        (("grads",), [0.1, 0.2, 0.3]),
        (("grads",), None),
        (("input_grads",), [[0.5, -0.25, 1.0]]),
        (("input_grads", 1), [0.5, -0.25]),
        (("input_grads",), None),
    ],
)
def test_a_model_reply_must_hold_what_the_request_implies(path: tuple, value: object) -> None:
    with pytest.raises(ProtocolError):
        parse("model", with_value(MODEL_REPLY, path, value), MODEL.expect(4))


@pytest.mark.parametrize(
    "kind, expect",
    [
        ("chain", {"grads": 4}),
        ("mse", {"grads": 3}),
        ("mse", {"grads": 2, "target_grads": 2}),
        ("train_check", {"losses": 3, "params": 2}),
        ("train_check", {"manual_losses": 2, "manual_params": 3}),
    ],
)
def test_other_replies_must_hold_what_the_request_implies(kind: str, expect: dict) -> None:
    with pytest.raises(ProtocolError):
        parse(kind, well_formed(kind), expect)


def test_counts_that_match_are_accepted() -> None:
    assert parse("chain", well_formed("chain"), {"grads": 3}).grads == (1.0, 1.0, 1.0)
    mse = with_value(well_formed("mse"), ("target_grads",), [-0.5, 0.5])
    assert parse("mse", mse, {"grads": 2, "target_grads": 2}).target_grads == (-0.5, 0.5)


# ---- framing --------------------------------------------------------------------------------


def test_decode_returns_the_numbered_object() -> None:
    reply = decode(b'{"seq": 3, "root": NaN, "grads": [Infinity, -Infinity]}\n', 3, "chain")
    assert reply["seq"] == 3 and math.isnan(reply["root"])
    assert reply["grads"] == [math.inf, -math.inf]
    assert decode(json.dumps({"seq": 0, "ready": True}).encode(), 0, "start")["ready"] is True


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json\n",
        b'{"seq": 3',
        b"\xff\xfe{}",
        b'{"seq": 3, "x": "\xc3"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"seq": 3, "x": ' + b"9" * 5_000 + b"}",
    ],
    ids=["empty", "text", "cut", "bad-utf8", "bad-utf8-inside", "deep", "long-int"],
)
def test_decode_rejects_what_is_not_json(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="not JSON"):
        decode(line, 3, "graph")


@pytest.mark.parametrize("line", [b"[1, 2]", b'"seq"', b"3", b"null", b"true"])
def test_decode_rejects_what_is_not_an_object(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="not a JSON object"):
        decode(line, 3, "graph")


@pytest.mark.parametrize(
    "reply, seq",
    [
        ({"seq": 2}, 3),
        ({"seq": 4}, 3),
        ({}, 3),
        ({"seq": "3"}, 3),
        ({"seq": None}, 0),
        ({"seq": True}, 1),
        ({"seq": False}, 0),
    ],
    ids=repr,
)
def test_decode_rejects_the_reply_to_another_request(reply: dict, seq: int) -> None:
    with pytest.raises(ProtocolError, match="not the reply"):
        decode(json.dumps(reply).encode(), seq, "graph")


@pytest.mark.parametrize("blocked, whole", [(True, True), (False, False)])
def test_only_the_workers_own_missing_name_blocks_the_whole_submission(blocked, whole) -> None:
    """An exception class of the submission's called MissingName, raised inside a probe, is
    that case's error; the worker's own (sent as `blocked`) says a name is missing."""
    from grader.checks import Failure, checking

    error = StudentError(**{**ERROR, "type": "MissingName", "message": "MLP"})
    with pytest.raises(Failure) as failed, checking("a probe"):
        raise SubmissionError(error, "blocked" if blocked else "graph", blocked=blocked)
    assert failed.value.whole_submission is whole
    assert ("defines no MLP" in failed.value.message) is whole
