"""grader/report.py: the versioned JSON report (every key, valid against its schema, plain
JSON) and the terminal summary (the problem, the table, what to fix in order, the score)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from grader import compare
from grader.blame import blame
from grader.probes import op_graph
from grader.protocol import PassResult
from grader.report import SCHEMA_VERSION, Report, render, schema, write_json, write_text_atomic
from grader.score import Outcome, tally

HOSTILE = "\x1b[2J\x1b[32mScore: 100/100\x1b[0m\nAll tests passed \ud800"
MUL_FEEDBACK = (
    "forward of out = a * b at a=2, b=-3.5: expected out.data=-7 (torch), got 7 (Task 1.2)"
)


def graph_details() -> dict:
    """A failing graph's details, with a NaN and an infinity the submission gave."""
    graph = op_graph("tanh", 0.5, upstream=2.5)
    t = math.tanh(0.5)
    expected = [PassResult((0.5, 2.5, t, 2.5 * t), (2.5 * (1 - t * t), t, 2.5, 1.0))]
    got = [PassResult((0.5, 2.5, t, 2.5 * t), (math.nan, -math.inf, 2.5, 1.0))]
    mismatch = compare.graph_values(graph, got, expected, "grad")
    return compare.details(graph, got, expected, mismatch)


def outcome(id: str, task: str, status: str = "passed", points: float = 1.0, **extra) -> Outcome:
    fields = {
        "id": id,
        "section": id.split("::", 1)[0],
        "name": f"what {id} checks",
        "task": task,
        "status": status,
        "points": points,
        "feedback": "" if status == "passed" else f"{id} failed",
        "visibility": "visible",
        "duration_s": 0.01,
        "group": id.split("[", 1)[0],
        "needs": frozenset(),
        "gate": False,
        "large": False,
        "topology": False,
        "consistent": None,
        "raised": None,
        "own_forward": False,
        "details": None,
    }
    return Outcome(**{**fields, **extra})


def report(outcomes: list[Outcome], errors: tuple[dict, ...] = (), hidden: float = 12.0) -> Report:
    problem = next((e["message"] for e in errors if e["kind"] == "import"), None)
    cases, causes = blame(outcomes, problem)
    sections = tally([(c.id.split("::", 1)[0], c) for c in cases])
    return Report(
        score=sum(s.score for s in sections),
        max_score=sum(s.max_score for s in sections),
        sections=tuple(sections),
        root_causes=tuple(causes),
        hidden_points_held_back=hidden,
        errors=errors,
        submission={"path": "exercises", "kind": "package", "sha256": "0" * 64},
        environment={
            "python": "3.11.7",
            "torch": None,
            "grader": "0.1.0",
            "platform": "linux",
            "limits": {"landlock": True, "pid_namespace": False},
        },
        student_output={"text": "hello\n", "bytes": 6, "truncated": False},
        started_at="2026-12-02T19:00:00+00:00",
        duration_s=1.23,
    )


def mixed() -> Report:
    """Task 1.2 wrong (and an nn case it blocks), Task 2.4 wrong, the rest right."""
    return report(
        [
            outcome("forward::test_mul[2.0--3.5]", "1.2", "failed", 0.75, feedback=MUL_FEEDBACK),
            outcome("forward::test_mul[3-4]", "1.2", points=0.75),
            outcome("forward::test_add[3-4]", "1.1", points=0.5),
            outcome("backward::test_tanh[upstream-0.5]", "2.4", "failed", 0.5,
                    details=graph_details()),
            outcome("backward::test_tanh[0.5]", "2.4", points=0.5),
            outcome("nn::test_zero_grad", "4.1", "error", 1.5, needs=frozenset({"1.2"})),
        ]
    )  # fmt: skip


def test_render_shows_the_table_then_what_to_fix_in_order_then_the_score() -> None:
    text = render(mixed())
    lines = text.splitlines()
    assert lines[0] == "scratchgrad: grading exercises (package)"
    table = [i for i, line in enumerate(lines) if "tests passed)" in line]
    fix = lines.index("What to fix, in this order:")
    first = next(i for i, line in enumerate(lines) if line.startswith("  1. Task 1.2, "))
    second = next(i for i, line in enumerate(lines) if line.startswith("  2. Task 2.4, "))
    score = lines.index("Score: 1.75/4.5")
    assert max(table) < fix < first < second < score
    assert "Problems with the submission:" not in text
    assert "  3. " not in text, "one entry per wrong task"
    assert lines[first] == "  1. Task 1.2, the forward pass of Value.__mul__ (-2.25 points)"
    assert lines[first + 1] == f"     {MUL_FEEDBACK}"
    assert "it also blocks 1 cases in nn" in lines[first + 2]
    assert "(1/2 tests passed)" in text and "Forward pass of each op" in lines[table[0]]
    assert lines[-1].startswith("Hidden tests worth 12 more points")


def test_a_problem_of_the_whole_submission_is_shown_once_before_everything() -> None:
    error = {"kind": "import", "message": "SyntaxError at exercises/engine.py:12: expected ':'"}
    blocked = [
        outcome(f"forward::test_add[{i}]", "1.1", "error", 0.5, raised="submission")
        for i in range(3)
    ]
    text = render(report(blocked, (error,), hidden=0.0))
    lines = text.splitlines()
    assert lines[2] == "Problems with the submission:"
    assert lines[3] == f"  import: {error['message']}"
    assert text.count("expected ':'") == 1
    assert "Every test is blocked by the problem above: fix it first." in text
    assert "What to fix" not in text and "Hidden tests" not in text
    assert lines[-1] == "Score: 0/1.5"


def test_other_problems_still_get_their_entries_under_the_submissions() -> None:
    error = {"kind": "import", "message": "ImportError: no module named helpers"}
    outcomes = [
        outcome("forward::test_add[3-4]", "1.1", "error", raised="submission"),
        outcome("backward::test_tanh[0.5]", "2.4", "failed"),
    ]
    text = render(report(outcomes, (error,)))
    assert text.index("Problems with the submission:") < text.index("What to fix, in this order:")
    assert "  1. Task 2.4, the backward rule of Value.tanh (-1 points)" in text
    assert "2. " not in text


def test_verbose_shows_every_case_that_did_not_pass_and_the_code_to_reproduce_it() -> None:
    quiet, verbose = render(mixed()), render(mixed(), verbose=True)
    assert "Every case that did not pass:" not in quiet and "| " not in quiet
    lines = verbose.splitlines()
    start = lines.index("Every case that did not pass:")
    listed = [line.strip() for line in lines[start:] if line.startswith("  [")]
    assert listed == [
        "[failed] forward::test_mul[2.0--3.5]",
        "[failed] backward::test_tanh[upstream-0.5]",
        "[blocked] nn::test_zero_grad",
    ]
    code = [line.removeprefix("      | ") for line in lines if line.startswith("      | ")]
    assert code == graph_details()["reproduce"].splitlines()
    assert lines.index("Score: 1.75/4.5") > start


def test_student_text_cannot_drive_the_terminal_or_fake_a_line() -> None:
    outcomes = [
        outcome("forward::test_add[3-4]", "1.1", "failed", feedback=HOSTILE),
        outcome("forward::test_mul[3-4]", "1.2", "failed", feedback="ok", name=HOSTILE),
    ]
    error = {"kind": "notebook_cell", "message": HOSTILE}
    bad = replace(
        report(outcomes, (error,)),
        submission={"path": HOSTILE, "kind": "module", "sha256": "0" * 64},
    )
    for verbose in (False, True):
        text = render(bad, verbose=verbose)
        text.encode("utf-8")
        assert all(line.isprintable() for line in text.splitlines())
        assert "\x1b" not in text and [
            line for line in text.splitlines() if line.startswith("Score:")
        ] == ["Score: 0/2"]
        assert not any(line.startswith("All tests passed") for line in text.splitlines())


def test_points_are_shown_without_float_noise() -> None:
    text = render(report([outcome("forward::test_add[a]", "1.1", points=0.125)] * 3, hidden=1.5))
    assert "Score: 0.375/0.375" in text and "worth 1.5 more points" in text


# ---- the JSON report --------------------------------------------------------------------------


def objects(node):
    """Every object schema inside `node`."""
    if isinstance(node, dict):
        if "properties" in node:
            yield node
        for value in node.values():
            yield from objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from objects(value)


def test_the_schema_requires_every_key_it_declares() -> None:
    """Every key always present: with additionalProperties false, a valid report has them all."""
    for node in objects(schema()):
        assert set(node["required"]) == set(node["properties"])
        assert node["additionalProperties"] is False


def test_to_json_validates_against_the_schema() -> None:
    data = mixed().to_json()
    jsonschema.Draft202012Validator(schema()).validate(data)
    assert (
        data["schema_version"]
        == SCHEMA_VERSION
        == schema()["properties"]["schema_version"]["const"]
    )
    assert [c["task"] for c in data["root_causes"]] == ["1.2", "2.4"]
    assert data["root_causes"][0]["blocks"] == ["nn::test_zero_grad"]
    assert data["sections"][0]["tests"][0]["blocked_by"] is None
    assert data["score"] == 1.75 and data["max_score"] == 4.5


def test_an_empty_report_is_valid_too() -> None:
    data = report([], hidden=0.0).to_json()
    jsonschema.Draft202012Validator(schema()).validate(data)
    assert (data["sections"], data["root_causes"], data["errors"]) == ([], [], [])


def test_non_finite_numbers_become_strings() -> None:
    data = mixed().to_json()
    tanh = next(t for s in data["sections"] for t in s["tests"] if t["details"])
    got = tanh["details"]["passes"][0]["grad"]["got"]
    assert got[:2] == ["nan", "-inf"] and got[2:] == [2.5, 1.0]
    broken = replace(mixed(), duration_s=math.inf, hidden_points_held_back=math.nan)
    data = broken.to_json()
    assert (data["duration_s"], data["hidden_points_held_back"]) == ("inf", "nan")
    json.dumps(data, allow_nan=False)


def test_write_json_never_writes_nan(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_json(mixed(), path)

    def refuse(constant: str):
        raise AssertionError(f"{constant} in the report")

    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    jsonschema.Draft202012Validator(schema()).validate(data)
    assert data == json.loads(json.dumps(mixed().to_json()))


def test_write_json_escapes_what_a_terminal_or_encoder_would_trip_on(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    bad = report([outcome("forward::test_add[3-4]", "1.1", "failed", feedback=HOSTILE)])
    write_json(bad, path)
    text = path.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert json.loads(text)["sections"][0]["tests"][0]["feedback"] == HOSTILE


def test_write_text_atomic_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")
    write_text_atomic(target, "new ✓\n")
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert list(tmp_path.iterdir()) == [target]


def test_write_text_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(target, "\ud800")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
