"""The worker boundary under attack (issue 10): a worker that answers every request with
Hypothesis-generated malformed and hostile replies still gets a valid, capped, printable report
and never a grader error.

The fake worker is a `Worker` whose process is a script: `request`, `load`, the hello, the
framing (`protocol.decode`) and the replacement of a worker after a timeout, a crash or a
protocol error all run as they do for a real worker; only the pipes and the process are
stand-ins. It goes through `grader.pipeline.grade` as a real one does, in-process.
"""

from __future__ import annotations

import functools
import json
import math
import queue
import random
import traceback
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from grader import pipeline
from grader.oracle import SHIPPED, Oracle, expectation_key, param_count, read_expectations
from grader.pipeline import SECTION_IDS, Options
from grader.protocol import API_NAMES, MAX_ITEMS
from grader.report import render, schema
from grader.worker import Worker
from grader.worker_process import EOF, TOO_LONG

SECTION_POINTS = {"forward": 20, "backward": 25, "backprop": 25, "nn": 15, "training": 15}
TEXT_CAP = 2_000
"""Longest feedback, message or title in a report (the terminal shows lines of up to 2,000)."""
DESCRIPTION_CAP = 40
"""Longest description of a number (`<NoneType>`) in a report's details."""
REPORT_BYTES = 2_000_000
KNOWN = read_expectations(SHIPPED)
"""What a correct submission answers to each probe of the public suites."""
TIMEOUT = object()
"""A reply that never comes."""
VALIDATOR = jsonschema.Draft202012Validator(schema())
PICKS = 12
PICK = st.integers(0, PICKS - 1)
"""Which answer a request gets: the correct one below 3 (mod the number of attacks + 3)."""


# ---- correct replies, from which hostile ones are made ------------------------------------


def correct(request: dict, held: dict | None) -> dict:
    """What a correct submission would answer (numbers made up where no expectation is shipped:
    those of the probes run on the student's own engine)."""
    kind = request["probe"]
    if kind == "hello":
        return {"ready": True, "limits": {"landlock": True, "pid_namespace": False}}
    if kind == "load":
        return {
            "names": list(API_NAMES),
            "import_error": None,
            "cell_errors": [],
            "cell_error_count": 0,
        }
    if kind == "hold":
        return {"held": len(request["leaves"]) + len(request["passes"][0]["nodes"])}
    if kind == "release":
        return KNOWN.get(expectation_key(held or {}), {"passes": []})
    if kind == "neuron_parts":
        w = [random.Random(i).uniform(-1, 1) for i in range(request["nin"])]
        return {"w": w, "b": 0.25, "params": [*w, 0.25]}
    if kind == "parameters":
        draws = random.Random(request["seed"])
        parts = request.get("parts") or [[request["kind"], request["args"]]]
        count = sum(param_count(part, args, request["kwargs"]) for part, args in parts)
        return {"params": [draws.uniform(-1, 1) for _ in range(count)]}
    if kind == "train_check":
        steps = request["train_kwargs"]["steps"]
        count = param_count(request["kind"], request["args"], request["kwargs"])
        losses, params = [1.0 / (1 + i) for i in range(steps)], [0.5] * count
        return {
            "param_count": count,
            "manual_losses": losses,
            "manual_params": params,
            "losses": losses,
            "params": params,
        }
    known = KNOWN.get(expectation_key(request))
    if known is not None:
        return known
    assert kind == "graph", f"no expectation shipped for a {kind} probe"
    passes = []
    for spec in request["passes"]:
        count = len(request["report"] or ()) or len(request["leaves"]) + len(spec["nodes"])
        backward = spec["root"] is not None
        passes.append(
            {
                "error": None,
                "step": None,
                "data": [0.5] * count,
                "grad": [0.25] * count if backward else None,
                "grad_sum": 1.0 if backward else None,
            }
        )
    return {"passes": passes}


# ---- what an attacker sends -----------------------------------------------------------------

HOSTILE_TEXT = st.one_of(
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["\x1b", "\ud800", "\U000e0001", "\n", "x"]),
        st.sampled_from([41, 501, 5_000, 100_000]),
    ),
    st.sampled_from(
        [
            "\x1b[2J\x1b[H\x1b[32mScore: 100/100\x1b[0m",
            "ok\nScore: 100/100\r\n",
            "\ud800\udfff\ud83d",
            "\u202e\u2028\x00\x07\x7f",
            "<NoneType>",
            '=HYPERLINK("http://x")',
            "2.4",
            "Task 3.1: implement Value.backward",
        ]
    ),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
)
HOSTILE_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e-320, math.nan, math.inf, -math.inf]),
    st.integers(-(2**64), 2**64),
    st.sampled_from([10**400, -(10**400), 2**1024, True, False, None]),
)
LEAF = st.one_of(HOSTILE_NUMBER, HOSTILE_TEXT)
HOSTILE_VALUE = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=6,
) | st.builds(lambda depth: json.loads("[" * depth + "]" * depth), st.sampled_from([50, 400]))
QUIET_ERROR = {"type": "E", "message": "m", "file": None, "line": None, "code": None, "task": None}
ERROR = (
    st.fixed_dictionaries(
        {
            "type": st.one_of(
                st.sampled_from(["NotImplementedError", "MissingName", "RecursionError", "", "E"]),
                HOSTILE_TEXT,
            ),
            "message": HOSTILE_TEXT,
            "file": st.none() | HOSTILE_TEXT,
            "line": st.none() | st.integers(-5, 10**10) | st.booleans(),
            "code": st.none() | HOSTILE_TEXT,
            "task": st.none()
            | st.sampled_from(["2.4", "3.1", "5.2", "9.9", "99.99"])
            | HOSTILE_TEXT,
        }
    )
    | HOSTILE_VALUE
)
WHERE = st.sampled_from(["blocked", "import", "graph", "node 4", "backward"]) | HOSTILE_TEXT
RAW = st.sampled_from(
    [
        b"",
        b"not json at all",
        b"\xff\xfe\x00{",
        b"[1, 2, 3]",
        b"null",
        b"[" * 200_000 + b"]" * 200_000,
        b'{"seq": 1, "x": ' + b"7" * 6_000 + b"}",
    ]
)
MUTATION = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 99), HOSTILE_VALUE),
    st.tuples(st.just("delete"), st.integers(0, 99), st.none()),
    st.tuples(st.just("extra"), st.integers(0, 99), HOSTILE_VALUE),
    st.tuples(st.just("resize"), st.integers(0, 99), st.sampled_from([0, 1, -1, 3, 65, 200_002])),
)
ATTACK = st.one_of(
    st.tuples(st.just("transport"), st.sampled_from([TIMEOUT, EOF, TOO_LONG])),
    st.tuples(st.just("raw"), RAW),
    st.tuples(st.just("seq"), st.sampled_from([None, True, False, -1, 1.0, "1", 10**6])),
    st.tuples(st.just("error"), ERROR, WHERE),
    st.tuples(st.just("pass_error"), ERROR, st.none() | HOSTILE_TEXT, st.booleans()),
    st.tuples(st.just("mutate"), st.lists(MUTATION, min_size=1, max_size=3)),
    st.tuples(st.just("numbers"), st.lists(HOSTILE_NUMBER | HOSTILE_TEXT, min_size=1, max_size=5)),
    st.tuples(st.just("replay"), st.integers(0, 20)),
    st.tuples(st.just("flood"), st.sampled_from(["cell_errors", "names", "passes", "grads"])),
    st.tuples(st.just("limits"), st.dictionaries(HOSTILE_TEXT, st.booleans() | LEAF, max_size=3)),
)


def paths(value, prefix=()) -> list[tuple]:
    """Where a mutation can strike: every key, and the first items of every list."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += paths(item, (*prefix, index))
    return found


def mutate(reply: dict, mutations: list) -> dict:
    reply = json.loads(json.dumps(reply))
    for what, where, value in mutations:
        spots = paths(reply)
        if not spots:
            reply[str(value)[:20]] = value
            continue
        *parents, last = spots[where % len(spots)]
        target = reply
        for step in parents:
            target = target[step]
        if what == "replace":
            target[last] = value
        elif what == "delete":
            del target[last]
        elif what == "extra" and isinstance(target[last], dict):
            target[last]["surprise"] = value
        elif what == "resize" and isinstance(target[last], list):
            items = target[last] or [0.5]
            target[last] = [items[i % len(items)] for i in range(max(value, 0))]
        else:
            target[last] = [target[last]]
    return reply


def numbers_replaced(value, numbers: list, counter: list[int]):
    if isinstance(value, float):
        counter[0] += 1
        return numbers[counter[0] % len(numbers)]
    if isinstance(value, dict):
        return {k: numbers_replaced(v, numbers, counter) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_replaced(v, numbers, counter) for v in value]
    return value


@functools.cache
def flood(kind: str) -> bytes:
    """A reply far over one of the caps, encoded once (without its `seq`)."""
    load = correct({"probe": "load"}, None)
    reply = {
        "cell_errors": {**load, "cell_errors": [QUIET_ERROR] * 1_000},
        "names": {**load, "names": ["Value"] * 10_000},
        "passes": {"passes": [{"error": None, "step": None, "data": [], "grad": None}] * 1_000},
        "grads": {"root": 1.0, "grads": [1] * (MAX_ITEMS + 1), "passes": [], "params": []},
    }[kind]
    return json.dumps(reply).encode()[1:]


class Attacker:
    """Answers each request correctly or with one of the attacks Hypothesis drew: request i
    gets attack picks[i] - 3 (mod the number of attacks + 3), or the correct reply below 3;
    the hello and the load only when picks[i] is the largest pick."""

    def __init__(self, picks: list[int], attacks: list) -> None:
        self.picks = picks
        self.attacks = attacks
        self.count = 0
        self.held: dict | None = None
        self.sent: list[dict] = []
        self.broken: str | None = None
        """The traceback of the first request the fake itself could not answer."""

    def __call__(self, request: dict):
        try:
            return self.answer(request)
        except Exception:  # the fake's own failure, not the grader's: reported as such
            self.broken = self.broken or traceback.format_exc()
            return b"{}\n"

    def answer(self, request: dict):
        seq = request.pop("seq")
        if request["probe"] == "hold":
            self.held = {**request, "probe": "graph"}
        reply = correct(request, self.held)
        pick = self.picks[self.count % len(self.picks)]
        if request["probe"] in ("hello", "load"):
            # Attacked rarely: an attack there stops every test the same way.
            attack = self.attacks[self.count % len(self.attacks)] if pick == PICKS - 1 else None
        else:
            pick %= len(self.attacks) + 3
            attack = self.attacks[pick - 3] if pick >= 3 else None
        self.count += 1
        self.sent.append(reply)
        kind, *args = attack or ("correct",)
        if kind == "transport":
            return args[0]
        if kind == "raw":
            return args[0] + b"\n"
        if kind == "seq":
            return encode({**reply, "seq": args[0]}) if args[0] is not None else encode(reply)
        if kind == "error":
            reply = {"error": args[0], "where": args[1]}
        elif kind == "pass_error" and "passes" in reply:
            broken = {"error": args[0], "step": args[1], "data": [], "grad": None, "grad_sum": None}
            reply = {"passes": [*reply["passes"][:1], broken] if args[2] else [broken]}
        elif kind == "mutate":
            reply = mutate(reply, args[0])
        elif kind == "numbers":
            reply = numbers_replaced(reply, args[0], [0])
        elif kind == "replay":
            reply = self.sent[-1 - args[0] % len(self.sent)]
        elif kind == "flood":
            return b'{"seq": %d, ' % seq + flood(args[0]) + b"\n"
        elif kind == "limits" and request["probe"] == "hello":
            reply = {"ready": True, "limits": args[0]}
        return encode({**reply, "seq": seq})


def encode(reply: dict) -> bytes:
    return json.dumps(reply, allow_nan=True).encode("utf-8") + b"\n"


class ScriptedPipes:
    """Stands in for worker_process.Pipes: each reply is made when its request is sent."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.lines = deque([answer({"probe": "hello", "seq": 0})])

    def send(self, line: bytes) -> None:
        self.lines.append(self.answer(json.loads(line)))

    def reply(self, timeout_s: float):
        line = self.lines.popleft() if self.lines else EOF
        if line is TIMEOUT:
            raise queue.Empty
        return line

    def close(self) -> None:
        self.lines.clear()


class ScriptedProcess:
    def wait(self, timeout: float | None = None) -> int:
        return -11


class ScriptedWorker(Worker):
    """A Worker whose process is a script: everything else is the harness's own code."""

    attacker: Attacker

    def _spawn(self) -> None:
        self.starts += 1
        self.load_reply = None
        self._process = ScriptedProcess()  # type: ignore[assignment]
        self._pipes = ScriptedPipes(self.attacker)  # type: ignore[assignment]
        self._seq = 0
        self._greeted = False

    def _stop(self) -> None:
        self._process = None
        self._greeted, self._load_sent = False, None


# ---- the property -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def submission_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "exercises.py"
    path.write_text("# never run: the worker is a script\n", encoding="utf-8")
    return path


ORACLE = Oracle(None)
SECTIONS = st.sets(st.sampled_from(SECTION_IDS), min_size=1, max_size=2).map(
    lambda chosen: tuple(s for s in SECTION_IDS if s in chosen)
)


def strings(value, key: str = ""):
    """(key, string) for every string in a report, with the key that holds it; the names of
    an object's entries come as ("<name>", name)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield "<name>", k
            yield from strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, key)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.generate],
)
@example(  # issue 10, class 4: escape codes in an error message, past every cap once shown
    sections=("forward",),
    attacks=[("error", {**QUIET_ERROR, "message": "\x1b" * 600}, "graph")],
    picks=[3],
)
@example(  # a number described by 100 lone surrogates
    sections=("forward",), attacks=[("numbers", ["\ud800" * 100])], picks=[3]
)
@example(  # limits named with escape codes, in the hello (shown in the report's environment)
    sections=("forward",), attacks=[("limits", {"\x1b[31m" * 20: True})], picks=[PICKS - 1]
)
@example(  # the same names, and a value that is not a flag: the error repeats the name
    sections=("forward",), attacks=[("limits", {"\x1b[2J": "yes"})], picks=[PICKS - 1]
)
@example(  # issue 10, class 3: forged load replies: a million cell errors, unhashable names
    sections=("forward",), attacks=[("flood", "cell_errors")], picks=[0, PICKS - 1]
)
@example(
    sections=("forward",),
    attacks=[("mutate", [("replace", 0, [["Value"], {"x": 1}])])],
    picks=[0, PICKS - 1],
)
@example(  # issue 10, class 5: numbers too large for a float; a chain over every cap
    sections=("backprop",), attacks=[("numbers", [10**400]), ("flood", "grads")], picks=[3, 4, 0]
)
@example(  # wrong row counts, replies to other probes, timeouts and crashes in turn
    sections=("nn", "training"),
    attacks=[
        ("mutate", [("resize", 9, 1)]),
        ("replay", 3),
        ("transport", TIMEOUT),
        ("transport", EOF),
    ],
    picks=[3, 4, 0, 5, 6, 1],
)
@given(
    sections=SECTIONS,
    attacks=st.lists(ATTACK, min_size=1, max_size=6),
    picks=st.lists(PICK, min_size=1, max_size=64),
)
def test_no_reply_breaks_the_grader(submission_path: Path, sections, attacks, picks) -> None:
    attacker = Attacker(picks, attacks)
    worker = type("AttackedWorker", (ScriptedWorker,), {"attacker": attacker})
    with mock.patch.object(pipeline, "Worker", worker), ThreadPoolExecutor(1) as thread:
        # A thread of its own: deep under Hypothesis and pytest, CPython 3.11 maps and unmaps
        # a frame-stack chunk on every call of the inner pytest (seconds of system time).
        options = Options(sections=sections)
        report = thread.submit(pipeline.grade, submission_path, options, (ORACLE, ORACLE)).result()

    assert attacker.broken is None, f"the fake worker itself failed:\n{attacker.broken}"
    grader_errors = [e for e in report.errors if e["kind"] == "grader"]
    # The hello comes before any student code runs: a bad one is the grading machine's fault,
    # reported as the grader's own error; every other reply is the submission's.
    bad_hello = any(kind == "limits" for kind, *_ in attacks) and grader_errors
    assert bad_hello or grader_errors == []
    assert all("problem of the grading machine" in e["message"] for e in grader_errors)
    assert [s.id for s in report.sections] == list(sections)
    assert report.max_score == sum(SECTION_POINTS[s] for s in sections)
    assert 0 <= report.score <= report.max_score
    data_json = report.to_json()
    VALIDATOR.validate(data_json)
    text = json.dumps(data_json, allow_nan=False)
    assert len(text) < REPORT_BYTES
    for key, value in strings(data_json):
        if key == "text":  # what the submission printed: kept, never shown on the terminal
            continue
        if key == "reproduce":
            assert all(line.isprintable() for line in value.splitlines())
            continue
        assert value.isprintable(), (key, value[:200])
        short = key in ("got", "expected", "<name>")
        assert len(value) <= (DESCRIPTION_CAP if short else TEXT_CAP), (key, value[:200])
    for verbose in (False, True):
        shown = render(report, verbose=verbose)
        shown.encode("utf-8")
        assert all(line.isprintable() for line in shown.splitlines())
