"""Each export format checked against the rules, and the behaviour, of the tool that reads it.

The reports are built by hand from the v2 schema (SPEC.md): one per situation a format must
get right, including one whose student text attacks every format.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

import grader
from grader import export
from grader.export.junit import _FIX_SUITE
from grader.export.text import clean

SCHEMA = json.loads((Path(grader.__path__[0]) / "report.schema.json").read_text())
HIDDEN = "This is a hidden test: its details are withheld."
SECRET = "expected x.grad=0.7864 (torch), got 0.75 at the secret point x=0.4162"
TANH = "backward of out = x.tanh() at x=0.5: expected x.grad=0.7864 (torch), got 0.75 (Task 2.4)"
IMPORT_ERROR = "SyntaxError at exercises/engine.py:12: invalid syntax"
# Student text that tries every trick on every format: Markdown links, images, raw HTML and
# autolinks, GitHub mentions and math, code-span and table breakers, terminal escapes, XML's
# forbidden characters, a lone surrogate, bidi overrides and Actions workflow commands.
HOSTILE = (
    "got <lambda> | [click me](https://evil.example/x) ![pic](https://evil.example/p.png) "
    "<img src=x onerror=alert(1)> <https://evil.example> www.evil.example mail@evil.example "
    "@octocat #1 $x$ ~~gone~~ **bold** _it_ `tick` ``two`` \\| &amp; \x1b[2J\x00\x07 \ud800 "
    "\u202eevil\u202c\n::error::fake annotation\r\n##[error]legacy command"
)
HOSTILE_VISIBLE_BITS = ("<lambda>", "[click me](https://evil.example/x)", "<img src=x")


def _test(test_id: str, status: str, score: float, max_score: float, **fields: Any) -> dict:
    test = {
        "id": test_id,
        "name": f"checks {test_id.split('::')[-1]}",
        "task": "2.4",
        "status": status,
        "score": score,
        "max_score": max_score,
        "feedback": "" if status == "passed" else f"{test_id} did not pass",
        "visibility": "visible",
        "duration_s": 0.25,
        "blocked_by": None,
        "details": None,
    }
    return test | fields


def _section(section_id: str, tests: list[dict]) -> dict:
    return {
        "id": section_id,
        "title": section_id.title() + " [of each op]",
        "score": sum(test["score"] for test in tests),
        "max_score": sum(test["max_score"] for test in tests),
        "tests": tests,
    }


def _cause(task: str, message: str, cases: list[str], blocks: list[str], lost: float) -> dict:
    return {
        "task": task,
        "title": "the backward rule of Value.tanh" if task != "submission" else message,
        "section": "backward" if task != "submission" else None,
        "points_lost": lost,
        "message": message,
        "test": cases[0],
        "cases": cases,
        "blocks": blocks,
    }


def _report(sections: list[dict], causes: list[dict], errors: list[dict], held_back=0.0) -> dict:
    return {
        "schema_version": 2,
        "score": sum(section["score"] for section in sections),
        "max_score": sum(section["max_score"] for section in sections),
        "sections": sections,
        "root_causes": causes,
        "errors": errors,
        "hidden_points_held_back": held_back,
        "submission": {"path": "exercises", "kind": "package", "sha256": "ab" * 32},
        "environment": {
            "python": "3.11.7",
            "torch": None,
            "grader": "0.1.0",
            "platform": "linux",
            "limits": {"memory": True, "network": False},
        },
        "student_output": {"text": "", "bytes": 0, "truncated": False},
        "started_at": "2026-12-02T19:00:00+00:00",
        "duration_s": 12.6,
    }


def full_marks() -> dict:
    """A student's local run: everything passed, hidden tests were not run."""
    forward = _section(
        "forward",
        [_test("forward::test_add[2-3]", "passed", 0.75, 0.75, task="1.1")]
        + [_test(f"forward::test_mul[{i}]", "passed", 0.125, 0.125, task="1.2") for i in range(8)],
    )
    backward = _section("backward", [_test("backward::test_tanh[0.5]", "passed", 0.375, 0.375)])
    return _report([forward, backward], [], [], held_back=12)


def one_bug() -> dict:
    """A tanh-rule bug: its own cases fail; later cases are blocked by it, one keeping its points
    (shown right another way) and one losing them."""
    backward = _section(
        "backward",
        [
            _test("backward::test_add[2-3]", "passed", 0.5, 0.5, task="2.1"),
            _test("backward::test_tanh[0.5]", "failed", 0, 0.375, feedback=TANH),
            _test("backward::test_tanh[upstream]", "failed", 0, 0.375, feedback=TANH + " again"),
        ],
    )
    nn = _section(
        "nn",
        [
            _test(
                "nn::test_mlp_gradients[tanh]",
                "blocked",
                0.5,
                0.5,
                task="4.6",
                blocked_by="2.4",
                feedback="blocked by Task 2.4, the backward rule of Value.tanh: fix it first.",
            ),
            _test("nn::test_mlp_forward", "passed", 1.0, 1.0, task="4.6"),
        ],
    )
    training = _section(
        "training",
        [
            _test(
                "training::test_train_loss_history[seed]",
                "blocked",
                0,
                2.125,
                task="5.2",
                blocked_by="2.4",
                feedback="blocked by Task 2.4, the backward rule of Value.tanh: fix it first.",
            )
        ],
    )
    cause = _cause(
        "2.4",
        TANH,
        ["backward::test_tanh[0.5]", "backward::test_tanh[upstream]"],
        ["nn::test_mlp_gradients[tanh]", "training::test_train_loss_history[seed]"],
        2.875,
    )
    return _report([backward, nn, training], [cause], [], held_back=12)


def graded() -> dict:
    """An autograder run with hidden tests, every failing status and three root causes: one seen
    first in a hidden case, one seen only in hidden cases."""
    forward = _section(
        "forward",
        [
            _test("forward::test_add[2-3]", "passed", 0.75, 0.75, task="1.1"),
            _test("forward::test_exp[1]", "timeout", 0, 0.625, task="1.5"),
            _test("forward::test_log[0]", "error", 0, 0.625, task="1.7"),
        ],
    )
    backward = _section(
        "backward",
        [
            _test("backward::test_tanh[0.5]", "failed", 0.125, 0.375, feedback=TANH),
            _test(
                "backward::test_secret_points[tanh]",
                "failed",
                0,
                1.5,
                visibility="hidden",
                feedback=SECRET,
            ),
            _test("backward::test_secret_points[add]", "passed", 1.5, 1.5, visibility="hidden"),
            _test(
                "backward::test_secret_points[exp]",
                "failed",
                0,
                1.5,
                task="2.5",
                visibility="hidden",
                feedback=SECRET + " (exp)",
            ),
            _test("backward::test_unseeded", "skipped", 0, 0.5, task="2.1", feedback="no seed"),
        ],
    )
    causes = [
        _cause("1.5", "forward of exp timed out", ["forward::test_exp[1]"], [], 0.625),
        _cause("1.7", "forward of log raised", ["forward::test_log[0]"], [], 0.625),
        _cause(
            "2.4",
            SECRET,
            ["backward::test_secret_points[tanh]", "backward::test_tanh[0.5]"],
            [],
            1.75,
        ),
        _cause("2.5", SECRET + " (exp)", ["backward::test_secret_points[exp]"], [], 1.5),
    ]
    return _report([forward, backward], causes, [])


def broken(count: int = 120) -> dict:
    """A submission that does not import: every case is blocked by it."""
    forward = _section(
        "forward",
        [
            _test(
                f"forward::test_add[{i}]",
                "blocked",
                0,
                0.125,
                task="1.1",
                blocked_by="submission",
                feedback="blocked: your submission could not be imported (see the problem above)",
            )
            for i in range(count)
        ],
    )
    cause = _cause("submission", IMPORT_ERROR, [t["id"] for t in forward["tests"]], [], 15)
    return _report([forward], [cause], [{"kind": "import", "message": IMPORT_ERROR}])


def hostile() -> dict:
    """Student text that attacks each format, in feedback, a root cause and an error."""
    report = one_bug()
    for section in report["sections"]:
        for test in section["tests"]:
            if test["status"] != "passed":
                test["feedback"] = HOSTILE
    report["root_causes"][0]["message"] = HOSTILE
    report["errors"] = [{"kind": "notebook_cell", "message": HOSTILE}]
    # Grader text is not written by students, but must mean only itself all the same.
    report["sections"][0]["title"] = "Backward <b>x</b> [of](https://evil.example) www.evil.example"
    report["sections"][0]["tests"][1]["name"] = "tanh ![pic](https://evil.example/p.png) *x* | y"
    return report


REPORTS = {
    "full_marks": full_marks,
    "one_bug": one_bug,
    "graded": graded,
    "broken": broken,
    "hostile": hostile,
}
FORMATS = ("gradescope", "classroom", "junit_xml", "markdown")


@pytest.fixture(params=sorted(REPORTS))
def report(request: pytest.FixtureRequest) -> dict:
    return REPORTS[request.param]()


def _all_tests(report: dict) -> list[dict]:
    return [test for section in report["sections"] for test in section["tests"]]


def _rendered(report: dict, fmt: str) -> str:
    """A format's output as the text its reader gets."""
    if fmt == "gradescope":
        return json.dumps(export.gradescope(report), ensure_ascii=False)
    if fmt == "classroom":
        encoded, points = export.classroom(report)
        return base64.b64decode(encoded).decode("utf-8") + "\n" + points
    return getattr(export, fmt)(report)


def test_fixtures_are_valid_reports(report: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(report)


def test_all_is_exactly_the_public_names() -> None:
    """The package shows its four renderers; its modules and their helpers stay behind them."""
    public = {
        name
        for name, value in vars(export).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert sorted(export.__all__) == sorted(public) == sorted(FORMATS)


def test_renderers_do_not_modify_the_report(report: dict) -> None:
    before = copy.deepcopy(report)
    for fmt in FORMATS:
        _rendered(report, fmt)
    assert report == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_speaks_of_extra_credit(report: dict, fmt: str) -> None:
    assert "extra credit" not in _rendered(report, fmt).lower()


# What every format shows first.


def _first_lines(report: dict, fmt: str) -> list[str]:
    """The names of what a format shows before the per-test results, in order."""
    if fmt == "gradescope":
        return [
            t["name"]
            for t in export.gradescope(report)["tests"]
            if "extra_data" not in t or "id" not in t["extra_data"]
        ]
    if fmt == "classroom":
        rows = _decode(export.classroom(report)[0])["tests"]
        return [row["name"] for row in rows[: len(rows) - len(_listed_ids(report))]]
    if fmt == "junit_xml":
        suite = _parse(report).find(f"testsuite[@name='{_FIX_SUITE}']")
        return [] if suite is None else [case.get("name", "") for case in suite]
    text = export.markdown(report)
    lines = re.findall(r"^(?:\*\*Problem|\d+ tests? blocked|\d+\. \*\*).*$", text, re.M)
    return [_unescaped(line) for line in lines]


def _listed_ids(report: dict) -> list[str]:
    return [t["id"] for t in _all_tests(report) if t["blocked_by"] != "submission"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_starts_with_the_root_causes_in_order(fmt: str) -> None:
    first = _first_lines(graded(), fmt)
    tasks = [re.findall(r"Task (\d\.\d), ", line)[0] for line in first]
    assert tasks == ["1.5", "1.7", "2.4", "2.5"]
    assert _first_lines(full_marks(), fmt) == []


def test_root_causes_come_before_the_per_test_results() -> None:
    report = one_bug()
    text = export.markdown(report)
    assert (
        text.index("What to fix")
        < text.index("| Section | Score |")
        < text.index("Tests not passed")
    )
    first_suite = _parse(report).find("testsuite")
    assert first_suite is not None and first_suite.get("name") == "what to fix"
    assert export.gradescope(report)["tests"][0]["number"] == "0.1"
    assert _decode(export.classroom(report)[0])["tests"][0]["name"].startswith(
        "What to fix 1: Task 2.4"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_problem_that_blocks_everything_is_shown_once(fmt: str) -> None:
    report = broken(120)
    text = _rendered(report, fmt)
    assert text.count(IMPORT_ERROR) == 1
    assert text.count("120 tests blocked by the problem above") >= 1
    assert "could not be imported" not in text  # the 120 identical rows are gone
    assert len(_all_tests(report)) == 120  # the native report keeps every case


def partly_broken() -> dict:
    """The submission misses MLP: the cases that need it are blocked by that problem, and a
    task of its own is wrong too."""
    report = one_bug()
    nn = report["sections"][1]
    nn["tests"] = [
        _test(f"nn::test_mlp[{i}]", "blocked", 0, 0.5, task="4.6", blocked_by="submission")
        for i in range(3)
    ]
    nn["score"], nn["max_score"] = 0, 1.5
    cause = report["root_causes"][0]
    cause["blocks"] = ["training::test_train_loss_history[seed]"]
    missing = "your submission defines no MLP (see docs/api.md)"
    report["root_causes"].insert(
        0, _cause("submission", missing, [t["id"] for t in nn["tests"]], [], 1.5)
    )
    report["errors"] = [{"kind": "missing_names", "message": missing}]
    report["score"] = sum(s["score"] for s in report["sections"])
    report["max_score"] = sum(s["max_score"] for s in report["sections"])
    return report


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_problem_comes_first_then_what_it_blocks_then_the_root_causes(fmt: str) -> None:
    report = partly_broken()
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    text = _rendered(report, fmt)
    marks = ["defines no MLP", "3 tests blocked by the problem above", "Task 2.4, the backward"]
    positions = [text.find(mark) for mark in marks]
    assert -1 not in positions and positions == sorted(positions)
    assert text.count("defines no MLP") == 1


def test_blocked_cases_are_one_row_in_each_format() -> None:
    report = broken(120)
    assert len(export.gradescope(report)["tests"]) == 1
    rows = _decode(export.classroom(report)[0])["tests"]
    assert [row["status"] for row in rows] == ["error", "fail"]
    assert sum(1 for _ in _parse(report).iter("testcase")) == 2
    table = _table_after(export.markdown(report), "### Tests not passed\n")
    assert len(table) == 3 and table[2][1] == "120 tests blocked by the problem above"


def test_a_partly_blocked_submission_lists_its_other_cases() -> None:
    report = broken(3)
    report["sections"][0]["tests"].append(_test("forward::test_mul[1]", "passed", 1, 1, task="1.2"))
    report["sections"][0]["score"], report["sections"][0]["max_score"] = 1, 1.375
    report["score"], report["max_score"] = 1, 1.375
    ids = [t["extra_data"].get("id") for t in export.gradescope(report)["tests"]]
    assert ids == [None, "forward::test_mul[1]"]
    assert [c.get("name") for c in _parse(report).iter("testcase")][-1] == "checks test_mul[1]"


# Gradescope: https://gradescope-autograders.readthedocs.io/en/latest/specs/

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
OUTPUT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output"}
TEST_KEYS |= {"output_format", "tags", "visibility", "extra_data"}
RESULT_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format"}
RESULT_KEYS |= {"test_name_format", "visibility", "stdout_visibility", "extra_data", "tests"}
RESULT_KEYS |= {"leaderboard"}


def validate_gradescope(results: dict) -> None:
    """The results.json rules of Gradescope's specification, as a reader would apply them."""
    assert json.loads(json.dumps(results, allow_nan=False)) == results
    json.dumps(results, ensure_ascii=False).encode("utf-8")  # no lone surrogates
    assert set(results) <= RESULT_KEYS
    assert isinstance(results["score"], (int, float)) and not isinstance(results["score"], bool)
    assert isinstance(results.get("execution_time", 0), int)
    assert isinstance(results.get("output", ""), str)
    assert results.get("output_format", "simple_format") in OUTPUT_FORMATS
    assert {
        results.get("visibility", "visible"),
        results.get("stdout_visibility", "hidden"),
    } <= VISIBILITIES
    for test in results.get("tests", []):
        assert set(test) <= TEST_KEYS
        for key in ("score", "max_score"):
            assert isinstance(test.get(key, 0), (int, float))
        assert test.get("status", "passed") in {"passed", "failed"}
        assert isinstance(test.get("name", ""), str) and isinstance(test.get("number", ""), str)
        assert {
            test.get("name_format", "text"),
            test.get("output_format", "text"),
        } <= OUTPUT_FORMATS
        assert all(isinstance(tag, str) for tag in test.get("tags", []))
        assert test.get("visibility", "visible") in VISIBILITIES


def test_gradescope_follows_the_specification(report: dict) -> None:
    validate_gradescope(export.gradescope(report))


def test_gradescope_score_is_the_report_score(report: dict) -> None:
    results = export.gradescope(report)
    assert results["score"] == report["score"]
    scored = [test for test in results["tests"] if "score" in test]
    assert sum(test["score"] for test in scored) == report["score"]
    assert sum(test["max_score"] for test in scored) == report["max_score"]


def test_gradescope_lists_every_test_in_order(report: dict) -> None:
    listed = [t for t in export.gradescope(report)["tests"] if "id" in t["extra_data"]]
    assert [t["extra_data"]["id"] for t in listed] == _listed_ids(report)
    numbers = [t["number"] for t in export.gradescope(report)["tests"]]
    assert len(set(numbers)) == len(numbers)


def test_gradescope_shows_blocked_cases_as_passed_only_when_they_kept_their_points() -> None:
    by_id = {t["extra_data"].get("id"): t for t in export.gradescope(one_bug())["tests"]}
    kept, lost = (
        by_id["nn::test_mlp_gradients[tanh]"],
        by_id["training::test_train_loss_history[seed]"],
    )
    assert kept["status"] == "passed" and kept["output"].startswith(
        "[blocked by Task 2.4, points kept] "
    )
    assert lost["status"] == "failed" and lost["output"].startswith("[blocked by Task 2.4] ")
    assert by_id["backward::test_tanh[0.5]"]["output"] == TANH


def test_gradescope_names_statuses_it_cannot_show() -> None:
    by_id = {t["extra_data"].get("id"): t for t in export.gradescope(graded())["tests"]}
    assert by_id["forward::test_exp[1]"]["output"].startswith("[timeout] ")
    assert by_id["forward::test_log[0]"]["output"].startswith("[error] ")
    assert by_id["backward::test_unseeded"]["output"] == "[skipped] no seed"
    assert by_id["forward::test_exp[1]"]["extra_data"]["status"] == "timeout"


def test_gradescope_shows_hidden_tests_only_after_publishing() -> None:
    results = export.gradescope(graded())
    by_id = {t["extra_data"].get("id"): t for t in results["tests"]}
    assert by_id["backward::test_secret_points[tanh]"]["visibility"] == "after_published"
    assert by_id["backward::test_secret_points[tanh]"]["output"] == SECRET
    assert by_id["forward::test_add[2-3]"]["visibility"] == "visible"
    assert "Visible tests: 0.875 / 2.875 points." in results["output"]
    assert "3 hidden tests worth 4.5 points" in results["output"]
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    assert SECRET not in json.dumps(visible) + results["output"]


def test_gradescope_root_causes_tell_before_publishing_only_what_visible_cases_show() -> None:
    causes = [t for t in export.gradescope(graded())["tests"] if t["number"].startswith("0.")]
    assert [c["visibility"] for c in causes] == ["visible", "visible", "visible", "after_published"]
    tanh, exp = causes[2], causes[3]
    assert tanh["output"] == TANH  # its first case is hidden: the visible one speaks
    assert "(-0.25 points)" in tanh["name"]  # what the visible case lost
    assert exp["output"] == SECRET + " (exp)" and "(-1.5 points)" in exp["name"]


def test_gradescope_summary() -> None:
    assert export.gradescope(full_marks())["output"].startswith("Score: 2.125 / 2.125 points.")
    results = export.gradescope(broken())
    assert results["score"] == 0
    assert f"Problem with the submission (import): {IMPORT_ERROR}" in results["output"]
    assert "What to fix, in this order" in export.gradescope(one_bug())["output"]


def test_gradescope_caps_every_output() -> None:
    report = one_bug()
    for test in _all_tests(report):
        test["feedback"] = "expected 1.0, got 2.0; " * 100_000
    report["root_causes"][0]["message"] = "x" * 10**6
    results = export.gradescope(report)
    validate_gradescope(results)
    assert max(len(t["output"]) for t in results["tests"]) < 11_000
    assert len(json.dumps(results)) < 200_000


# GitHub Classroom: classroom-resources/autograding-grading-reporter (src/notify-classroom.js,
# src/console-results.js) reads the base64 JSON from <RUNNER-ID>_RESULTS.


def _decode(encoded: str) -> dict:
    return json.loads(base64.b64decode(encoded, validate=True))


def _js_string(value: float) -> str:
    """JavaScript's `${number}` for the values here: integers without ".0"."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def reporter_points(payload: dict) -> str | None:
    """NotifyClassroom: skip a runner whose max_score is falsy, add each test's score to 0 in
    order (JS numbers are IEEE doubles, as Python floats), then `Points ${total}/${max}`."""
    if not payload["max_score"]:
        return None
    total = 0
    for test in payload["tests"]:
        total += test["score"]
    return f"Points {_js_string(total)}/{_js_string(payload['max_score'])}"


def reporter_log(payload: dict) -> list[str]:
    """ConsoleResults: what the reporter prints for each test, in order."""
    lines = []
    for test in payload["tests"]:
        if test["status"] == "pass":
            lines.append(f"✅ {test['name']}")
        elif test["status"] == "error":
            lines.append(f"Error: {test['message'] or 'Failed to run test ' + repr(test['name'])}")
        else:
            lines.append(f"❌ {test['name']}")
        if test["test_code"]:
            lines.append(f"Test code:\n{test['test_code']}")
    return lines


def test_classroom_payload_has_the_fields_the_reporter_reads(report: dict) -> None:
    payload = _decode(export.classroom(report)[0])
    assert payload["version"] == 1
    assert payload["status"] in {"pass", "fail", "error"}
    assert payload["max_score"] == report["max_score"]
    keys = {"name", "status", "message", "test_code", "filename", "line_no", "duration", "score"}
    for test in payload["tests"]:
        assert set(test) == keys
        assert test["status"] in {"pass", "fail", "error"}
        assert test["line_no"] == 0 and test["test_code"] == ""
        assert isinstance(test["score"], (int, float)) and isinstance(test["message"], str)
        assert isinstance(test["duration"], int)


def test_classroom_points_line_is_what_the_reporter_prints(report: dict) -> None:
    encoded, points = export.classroom(report)
    assert (
        points
        == reporter_points(_decode(encoded))
        == (f"Points {_js_string(report['score'])}/{_js_string(report['max_score'])}")
    )


def test_classroom_scores_add_up_exactly_in_any_order(report: dict) -> None:
    scores = [test["score"] for test in _decode(export.classroom(report)[0])["tests"]]
    rng = random.Random(11)
    for _ in range(200):
        rng.shuffle(scores)
        total = 0.0
        for score in scores:
            total += score
        assert total == report["score"]


def _thirds(lost: bool) -> dict:
    """A report whose points are not binary fractions: 30 tests of 1/3 point."""
    tests = [_test(f"nn::test_case[{i}]", "passed", 1 / 3, 1 / 3, task="4.6") for i in range(30)]
    if lost:
        tests[7] |= {"status": "failed", "score": 0.0, "feedback": "wrong"}
    report = _report([_section("nn", tests)], [], [])
    report["score"] = 29 / 3 if lost else 10.0
    report["max_score"] = 10.0
    return report


@pytest.mark.parametrize("lost", [False, True])
def test_classroom_totals_are_exact_whatever_the_points(lost: bool) -> None:
    report = _thirds(lost)
    encoded, points = export.classroom(report)
    scores = [test["score"] for test in _decode(encoded)["tests"]]
    assert sum(scores) == sum(reversed(scores)) == sum(sorted(scores))
    assert points == reporter_points(_decode(encoded))
    assert points == ("Points 9.666015625/10" if lost else "Points 10/10")


def test_a_report_that_lost_points_never_reads_as_full_marks() -> None:
    report = full_marks()
    report["sections"][0]["tests"][0]["score"] = 0.75 - 2**-30
    report["sections"][0]["tests"][0] |= {"status": "failed", "feedback": "just off"}
    report["score"] -= 2**-30
    full = f"{report['max_score']:g}"
    _, points = export.classroom(report)
    total, maximum = points.removeprefix("Points ").split("/")
    assert float(total) < float(maximum)
    assert not export.markdown(report).startswith(f"## scratchgrad: {full} / {full}")
    assert not export.gradescope(report)["output"].startswith(f"Score: {full} / {full}")
    assert export.gradescope(report)["score"] < report["max_score"]


@pytest.mark.parametrize(
    ("make", "status", "points"),
    [
        (full_marks, "pass", "Points 2.125/2.125"),
        (one_bug, "fail", "Points 2/4.875"),
        (graded, "fail", "Points 2.375/7.375"),
        (broken, "error", "Points 0/15"),
    ],
)
def test_classroom_status_and_points(make: Any, status: str, points: str) -> None:
    encoded, line = export.classroom(make())
    assert _decode(encoded)["status"] == status
    assert line == points


def test_classroom_maps_blocked_cases_to_fail_unless_they_kept_their_points() -> None:
    rows = {row["name"]: row for row in _decode(export.classroom(one_bug())[0])["tests"]}
    assert rows["checks test_mlp_gradients[tanh]"]["status"] == "pass"
    assert rows["checks test_train_loss_history[seed]"]["status"] == "fail"
    assert rows["checks test_train_loss_history[seed]"]["message"].startswith(
        "[blocked by Task 2.4] "
    )


def test_classroom_log_starts_with_the_problem_then_the_root_causes() -> None:
    log = reporter_log(_decode(export.classroom(broken())[0]))
    assert log == [f"Error: {IMPORT_ERROR}", "❌ 120 tests blocked by the problem above"]
    log = reporter_log(_decode(export.classroom(one_bug())[0]))
    assert log[0] == (
        "❌ What to fix 1: Task 2.4, the backward rule of Value.tanh (-2.875 points; 2 of its "
        f"cases fail; it also blocks 2 cases in nn, training): {TANH}"
    )


def test_classroom_payload_fits_in_one_environment_variable() -> None:
    report = graded()
    for test in _all_tests(report):
        test["feedback"] = "expected 1.0, got 2.0; " * 2000
    report["sections"][0]["tests"] *= 80
    encoded, _ = export.classroom(report)
    assert len("SCRATCHGRAD_RESULTS=" + encoded) < 128 * 1024  # Linux's MAX_ARG_STRLEN
    messages = [test["message"] for test in _decode(encoded)["tests"]]
    assert any(m.endswith("(cut short; the JSON report has it in full)") for m in messages)


def test_classroom_withholds_hidden_test_details() -> None:
    encoded, _ = export.classroom(graded())
    decoded = base64.b64decode(encoded).decode()
    assert SECRET not in decoded and "secret_points" not in decoded
    names = [test["name"] for test in _decode(encoded)["tests"]]
    assert names.count("Hidden test in Backward [of each op]") == 3


def test_classroom_log_lines_cannot_run_workflow_commands() -> None:
    payload = _decode(export.classroom(hostile())[0])
    for line in reporter_log(payload):
        assert "\n" not in line and "\r" not in line
        assert not line.lstrip().startswith("::") and "##[" not in line
        assert not re.search("[\x00-\x08\x0b-\x1f\ud800-\udfff\u202a-\u202e]", line)


# JUnit XML, checked against Jenkins xunit-plugin's junit-10.xsd (its current version): the
# attributes each element may carry, those it must, the children it may have.

XSD_ATTRIBUTES = {
    "testsuites": {"name", "time", "tests", "failures", "errors"},
    "testsuite": {
        "name",
        "tests",
        "failures",
        "errors",
        "group",
        "time",
        "skipped",
        "timestamp",
        "hostname",
        "id",
        "package",
        "file",
        "log",
        "url",
        "version",
    },
    "properties": set(),
    "property": {"name", "value"},
    "testcase": {"name", "time", "classname", "group"},
    "failure": {"type", "message"},
    "error": {"type", "message"},
    "skipped": {"type", "message"},
}
XSD_REQUIRED = {
    "testsuite": {"name", "tests", "failures", "errors"},
    "testcase": {"name"},
    "property": {"name", "value"},
}
XSD_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
    "properties": {"property"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
}
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?")
JUNIT_COUNTS = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def _parse(report: dict) -> ET.Element:
    return ET.fromstring(export.junit_xml(report).encode("utf-8"))


def test_junit_follows_the_xsd(report: dict) -> None:
    root = _parse(report)
    assert root.tag == "testsuites"
    for element in root.iter():
        assert set(element.attrib) <= XSD_ATTRIBUTES[element.tag], element.tag
        assert XSD_REQUIRED.get(element.tag, set()) <= set(element.attrib), element.tag
        assert {child.tag for child in element} <= XSD_CHILDREN.get(element.tag, set())
        if element.tag in ("testsuites", "testsuite"):
            assert SUREFIRE_TIME.fullmatch(element.get("time", ""))


def test_junit_counts_are_consistent(report: dict) -> None:
    root = _parse(report)
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        for outcome, attribute in JUNIT_COUNTS.items():
            assert int(suite.get(attribute, "")) == sum(c.find(outcome) is not None for c in cases)
        assert float(suite.get("time", "")) == pytest.approx(
            sum(float(case.get("time", "")) for case in cases)
        )
    for attribute in ("tests", "failures", "errors"):
        assert int(root.get(attribute, "")) == sum(int(s.get(attribute, "")) for s in suites)
    assert float(root.get("time", "")) == report["duration_s"]


def test_junit_has_a_suite_per_section_and_a_case_per_listed_test(report: dict) -> None:
    suites = [s for s in _parse(report).findall("testsuite") if s.get("name") != "what to fix"]
    assert [suite.get("name") for suite in suites] == [s["id"] for s in report["sections"]]
    for suite, section in zip(suites, report["sections"], strict=True):
        cases = suite.findall("testcase")
        listed = [t for t in section["tests"] if t["blocked_by"] != "submission"]
        assert [case.get("group") for case in cases] == [test["id"] for test in listed]
        assert {case.get("classname") for case in cases} <= {section["id"]}
        names = [case.get("name", "") for case in cases]
        assert len(set(names)) == len(names) and not any("::" in name for name in names)


def test_junit_names_are_the_human_test_names() -> None:
    cases = {case.get("group"): case for case in _parse(one_bug()).iter("testcase")}
    assert cases["backward::test_tanh[0.5]"].get("name") == "checks test_tanh[0.5]"
    assert cases["backward::test_tanh[0.5]"].get("classname") == "backward"


def test_junit_outcomes_carry_the_feedback() -> None:
    cases = {case.get("group"): case for case in _parse(graded()).iter("testcase")}
    assert len(cases["forward::test_add[2-3]"]) == 0
    failure = cases["backward::test_tanh[0.5]"].find("failure")
    assert failure is not None and failure.get("message") == TANH
    assert cases["forward::test_exp[1]"].find("error") is not None
    assert cases["forward::test_log[0]"].find("error") is not None
    assert cases["backward::test_unseeded"].find("skipped") is not None
    hidden = cases["backward::test_secret_points[tanh]"].find("failure")
    assert hidden is not None and hidden.get("message") == HIDDEN
    assert cases["backward::test_secret_points[tanh]"].get("name") == (
        "Hidden test 1 in Backward [of each op]"
    )


def test_junit_blocked_case_is_skipped_when_it_kept_its_points() -> None:
    cases = {case.get("group"): case for case in _parse(one_bug()).iter("testcase")}
    kept = cases["nn::test_mlp_gradients[tanh]"].find("skipped")
    lost = cases["training::test_train_loss_history[seed]"].find("failure")
    assert kept is not None and kept.get("type") == "blocked"
    assert lost is not None and lost.get("type") == "blocked"
    assert (lost.get("message") or "").startswith("[blocked by Task 2.4] ")


def test_junit_starts_with_what_to_fix() -> None:
    root = _parse(broken())
    assert root.get("errors") == "1" and root.get("tests") == "2"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "what to fix"
    error = suite.find("testcase/error")
    assert error is not None and error.get("message") == IMPORT_ERROR
    skipped = suite.find("testcase/skipped")
    assert skipped is not None and skipped.get("type") == "blocked"


def test_junit_is_valid_xml_for_any_text() -> None:
    report = hostile()
    report["errors"][0]["message"] = HOSTILE * 10_000
    report["sections"][0]["title"] = HOSTILE
    text = export.junit_xml(report)
    text.encode("utf-8")
    root = ET.fromstring(text.encode("utf-8"))
    for element in root.iter():
        for value in element.attrib.values():
            assert len(value) < 5000
    assert len(text) < 100_000


# Markdown for $GITHUB_STEP_SUMMARY and comments.


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def _table_after(text: str, heading: str) -> list[list[str]]:
    """The table that starts on the line after `heading` (or on `heading` itself if it is
    the table's header row)."""
    before, sep, after = text.partition(heading)
    lines = (heading + after if heading.startswith("|") else after).lstrip("\n").splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return rows


def _unescaped(cell: str) -> str:
    return re.sub(r"\\(.)", r"\1", cell)


def test_markdown_heading_and_section_table(report: dict) -> None:
    text = export.markdown(report)
    assert text.startswith(
        f"## scratchgrad: {report['score']:g} / {report['max_score']:g} points\n"
    )
    rows = _table_after(text, "| Section | Score | Max |")
    assert rows[0] == ["Section", "Score", "Max"]
    assert [_unescaped(row[0]) for row in rows[2:]] == [s["title"] for s in report["sections"]]
    assert all(len(row) == 3 for row in rows)


def test_markdown_lists_every_test_not_passed_in_one_row_each() -> None:
    rows = _table_after(export.markdown(graded()), "### Tests not passed\n")
    assert rows[0] == ["Section", "Test", "Status", "Feedback"]
    statuses = ["timeout", "error", "failed", "failed", "failed", "skipped"]
    assert [row[2] for row in rows[2:]] == statuses
    assert all(len(row) == 4 for row in rows)
    rows = _table_after(export.markdown(one_bug()), "### Tests not passed\n")
    assert [_unescaped(row[2]) for row in rows[2:]] == [
        "failed",
        "failed",
        "blocked by Task 2.4, points kept",
        "blocked by Task 2.4",
    ]


def test_markdown_shows_student_text_as_typed_in_code_spans() -> None:
    report = one_bug()
    report["sections"][0]["tests"][1]["feedback"] = "returned <lambda> | a `tick`"
    row = next(line for line in export.markdown(report).splitlines() if "test_tanh[0.5]" in line)
    assert "`` returned <lambda> \\| a `tick` ``" in row
    assert "&lt;" not in row


def test_markdown_withholds_hidden_feedback() -> None:
    text = export.markdown(graded())
    assert SECRET not in text and "secret_points" not in text
    assert HIDDEN in text
    assert TANH in text  # the tanh root cause speaks through its visible case


def test_markdown_mentions_held_back_points_and_errors() -> None:
    held = "Hidden tests worth 12 more points run only in the course's autograder."
    assert held in export.markdown(full_marks())
    assert "Hidden tests worth" not in export.markdown(graded())
    text = export.markdown(broken())
    assert f"**Problem with the submission** (import): ` {IMPORT_ERROR} `" in text


def test_markdown_fits_in_a_comment() -> None:
    report = graded()
    for test in _all_tests(report):
        test["feedback"] = "expected 1.0, got 2.0; " * 2000
    report["sections"][1]["tests"] *= 100
    report["root_causes"] *= 10
    report["errors"] = [{"kind": "notebook_cell", "message": "x" * 10**5}] * 10
    for cause in report["root_causes"]:
        cause["message"] = "y" * 10**5
    text = export.markdown(report)
    assert len(text) < 65_536
    assert "more: the JSON report lists every case." in text


class _Tags(HTMLParser):
    """The elements of rendered HTML, and the text inside <code>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.code: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        self._in_code += tag == "code"
        if tag == "code":
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_code -= tag == "code"

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code[-1] += data


OUR_TAGS = {"h2", "h3", "p", "strong", "code", "br", "ol", "li", "table", "thead", "tbody", "tr"}
OUR_TAGS |= {"th", "td"}


def _renderers() -> list:
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="dev dependency: pip install cmarkgfm")
    markdown_it = pytest.importorskip("markdown_it", reason="pip install markdown-it-py")
    pytest.importorskip("linkify_it", reason="pip install linkify-it-py")
    unsafe = cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE
    return [
        lambda text: cmarkgfm.github_flavored_markdown_to_html(text, options=unsafe),
        markdown_it.MarkdownIt("gfm-like").render,
    ]


def test_markdown_renders_no_link_image_or_html_from_student_text() -> None:
    """GitHub's own renderer (cmark-gfm, raw HTML let through as GitHub does before it
    sanitises) and markdown-it in GFM mode with linkify."""
    text = export.markdown(hostile())
    for render in _renderers():
        parsed = _Tags()
        parsed.feed(render(text))
        assert parsed.tags <= OUR_TAGS
        code = " ".join(parsed.code)
        assert all(bit in code for bit in HOSTILE_VISIBLE_BITS)
        assert "&lt;" not in code and "&amp;lt;" not in code


def test_markdown_shows_student_text_whole_when_rendered() -> None:
    """Each table row keeps its four cells and each code span the whole text: no backtick run
    or pipe in it ends the span or the cell early."""
    shown = " ".join(clean(HOSTILE).split("\n")).replace("\r", " ").strip()
    text = export.markdown(hostile())
    for render in _renderers():
        html = render(text)
        parsed = _Tags()
        parsed.feed(html)
        assert parsed.code.count(shown) == 6  # the error, the root cause, four cases
        rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
        assert rows and all(len(re.findall("<t[hd][ >]", row)) in (3, 4) for row in rows)
