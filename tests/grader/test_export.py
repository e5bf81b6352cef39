"""Each export format checked against the rules of the tool that reads it."""

from __future__ import annotations

import base64
import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

import grader
from grader import export

SCHEMA = json.loads((Path(grader.__path__[0]) / "report.schema.json").read_text())
HIDDEN = "This is a hidden test: its details are withheld."
SECRET = "expected x.grad=0.7864 (torch), got 0.75"
PIPE_FEEDBACK = (
    "Task 2.3: backward of a*b at a=2, b=3: expected a.grad=3 (torch), got 0 | b.grad=2\n"
    "rule: d(a*b)/da = b; returned <lambda> \x1b[31m"
)

# Jenkins xunit-plugin junit-10.xsd: the elements and attributes it allows, and those it requires.
XSD_ATTRIBUTES = {
    "testsuites": {"name", "time", "tests", "failures", "disabled", "errors"},
    "testsuite": {
        "name",
        "tests",
        "failures",
        "errors",
        "time",
        "disabled",
        "skipped",
        "skips",
        "timestamp",
        "hostname",
        "id",
        "package",
        "assertions",
        "file",
        "skip",
        "log",
        "url",
    },
    "properties": set(),
    "property": {"name", "value"},
    "testcase": {
        "name",
        "assertions",
        "time",
        "timestamp",
        "classname",
        "status",
        "class",
        "file",
        "line",
        "log",
        "group",
        "url",
    },
    "failure": {"type", "message"},
    "error": {"type", "message"},
    "skipped": {"type", "message"},
}
XSD_REQUIRED = {"testsuite": {"tests"}, "testcase": {"name"}, "property": {"name", "value"}}
XSD_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
    "properties": {"property"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
}
JUNIT_COUNTS = {"failure": "failures", "error": "errors", "skipped": "skipped"}
# What GitHub Classroom reads from the reporter's "Points X/Y" annotation.
POINTS = re.compile(r"Points (\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)")


def _test(test_id: str, status: str, score: float, max_score: float, **fields: Any) -> dict:
    test = {
        "id": test_id,
        "name": f"checks {test_id.split('::')[-1]}",
        "task": "2.3",
        "status": status,
        "score": score,
        "max_score": max_score,
        "feedback": "" if status == "passed" else f"{test_id} did not pass",
        "visibility": "visible",
        "duration_s": 0.25,
    }
    return test | fields


def _section(section_id: str, tests: list[dict], extra_credit: bool = False) -> dict:
    return {
        "id": section_id,
        "title": section_id.replace("_", " ").title(),
        "score": sum(test["score"] for test in tests),
        "max_score": sum(test["max_score"] for test in tests),
        "extra_credit": extra_credit,
        "tests": tests,
    }


def _report(sections: list[dict], errors: list[dict], held_back: float = 0) -> dict:
    core = [section for section in sections if not section["extra_credit"]]
    return {
        "schema_version": 1,
        "score": sum(section["score"] for section in core),
        "max_score": sum(section["max_score"] for section in core),
        "sections": sections,
        "hidden_points_held_back": held_back,
        "errors": errors,
        "submission": {"path": "exercises", "kind": "package", "sha256": "ab" * 32},
        "environment": {
            "python": "3.11.7",
            "torch": "2.5.1",
            "grader": "0.1.0",
            "platform": "Linux-x86_64",
            "limits": {"memory": True, "network": False},
        },
        "student_output": {"text": "", "bytes": 0, "truncated": False},
        "started_at": "2025-03-01T12:00:00+00:00",
        "duration_s": 12.6,
    }


def full_marks() -> dict:
    """A student's local run: everything passed, hidden tests were not run."""
    engine = _section(
        "engine",
        [_test("engine::add", "passed", 1, 1), _test("engine::mul_backward", "passed", 2, 2)],
    )
    return _report([engine, _section("nn", [_test("nn::mlp_forward", "passed", 1, 1)])], [], 3)


def mixed() -> dict:
    """A graded run with partial credit, every failing status, hidden tests and extra credit."""
    engine = _section(
        "engine",
        [
            _test("engine::add", "passed", 1, 1),
            _test("engine::mul_backward", "failed", 0.5, 2, feedback=PIPE_FEEDBACK),
            _test("engine::deep_chain", "timeout", 0, 1),
            _test("engine::tanh_hidden", "failed", 0, 2, visibility="hidden", feedback=SECRET),
            _test("engine::relu_hidden", "passed", 1, 1, visibility="hidden"),
        ],
    )
    training = _section(
        "training",
        [
            _test("training::step", "error", 0, 1, task=None),
            _test("training::converges", "skipped", 0, 1),
        ],
    )
    bonus = _section(
        "bonus",
        [_test("bonus::softmax", "passed", 1, 1), _test("bonus::conv", "failed", 0, 1)],
        extra_credit=True,
    )
    return _report([engine, training, bonus], [])


def broken() -> dict:
    """A submission that does not import: errors and no tests at all."""
    error = {
        "kind": "syntax_error",
        "message": "exercises/engine.py, line 12: invalid syntax. Fix it and run again.",
    }
    return _report([], [error])


REPORTS = {"full_marks": full_marks, "mixed": mixed, "broken": broken}


@pytest.fixture(params=sorted(REPORTS))
def report(request: pytest.FixtureRequest) -> dict:
    return REPORTS[request.param]()


def _all_tests(report: dict) -> list[dict]:
    return [test for section in report["sections"] for test in section["tests"]]


def test_fixtures_are_valid_reports(report: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(report)


def test_all_is_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(export).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
        if getattr(value, "__module__", export.__name__) == export.__name__
    }
    assert sorted(export.__all__) == sorted(public)


def test_renderers_do_not_modify_the_report(report: dict) -> None:
    before = copy.deepcopy(report)
    export.gradescope(report), export.classroom(report)
    export.junit_xml(report), export.markdown(report)
    assert report == before


# Gradescope: https://gradescope-autograders.readthedocs.io/en/latest/specs/

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def test_gradescope_fields_have_the_specified_types(report: dict) -> None:
    results = export.gradescope(report)
    assert json.loads(json.dumps(results, allow_nan=False)) == results
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], int)
    assert isinstance(results["output"], str)
    assert results["output_format"] in FORMATS
    assert {results["visibility"], results["stdout_visibility"]} <= VISIBILITIES
    for test in results["tests"]:
        assert isinstance(test["score"], (int, float))
        assert isinstance(test["max_score"], (int, float))
        assert test["status"] in {"passed", "failed"}
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert {test["name_format"], test["output_format"]} <= FORMATS
        assert all(isinstance(tag, str) for tag in test["tags"])
        assert test["visibility"] in VISIBILITIES


def test_gradescope_score_is_the_sum_of_test_scores_with_extra_credit(report: dict) -> None:
    results = export.gradescope(report)
    extra = sum(s["score"] for s in report["sections"] if s["extra_credit"])
    assert results["score"] == pytest.approx(sum(test["score"] for test in results["tests"]))
    assert results["score"] == pytest.approx(report["score"] + extra)


def test_gradescope_has_one_entry_per_test_in_order(report: dict) -> None:
    results = export.gradescope(report)
    ids = [test["extra_data"]["id"] for test in results["tests"]]
    assert ids == [test["id"] for test in _all_tests(report)]
    passed = [test["status"] == "passed" for test in _all_tests(report)]
    assert [test["status"] == "passed" for test in results["tests"]] == passed


def test_gradescope_shows_hidden_tests_only_after_publishing() -> None:
    results = export.gradescope(mixed())
    by_id = {test["extra_data"]["id"]: test for test in results["tests"]}
    assert by_id["engine::tanh_hidden"]["visibility"] == "after_published"
    assert by_id["engine::tanh_hidden"]["output"] == SECRET
    assert by_id["engine::add"]["visibility"] == "visible"
    assert SECRET not in results["output"]
    assert "Visible tests: 1.5/6 points." in results["output"]
    assert "2 hidden tests worth 3 points" in results["output"]


def test_gradescope_labels_extra_credit_and_statuses_it_cannot_show() -> None:
    by_id = {test["extra_data"]["id"]: test for test in export.gradescope(mixed())["tests"]}
    assert by_id["bonus::conv"]["name"].endswith("(extra credit)")
    assert "extra credit" in by_id["bonus::conv"]["tags"]
    assert by_id["engine::deep_chain"]["output"].startswith("[timeout] ")
    assert by_id["engine::deep_chain"]["extra_data"]["status"] == "timeout"


def test_gradescope_summaries() -> None:
    assert export.gradescope(full_marks())["output"].startswith("Score: 4/4 points.")
    results = export.gradescope(broken())
    assert results["tests"] == [] and results["score"] == 0
    assert broken()["errors"][0]["message"] in results["output"]


# GitHub Classroom: classroom-resources/autograding-grading-reporter reads the base64 JSON from
# the env var <RUNNER-ID>_RESULTS; graders such as autograding-command-grader produce it.


def _decode(encoded: str) -> dict:
    return json.loads(base64.b64decode(encoded, validate=True))


def test_classroom_payload_has_the_fields_the_reporter_reads(report: dict) -> None:
    payload = _decode(export.classroom(report)[0])
    assert payload["version"] == 1
    assert payload["status"] in {"pass", "fail", "error"}
    assert payload["max_score"] == report["max_score"]
    assert len(payload["tests"]) == len(_all_tests(report))
    for test in payload["tests"]:
        assert set(test) == {
            "name",
            "status",
            "message",
            "test_code",
            "filename",
            "line_no",
            "duration",
            "score",
        }
        assert test["status"] in {"pass", "fail", "error"}
        assert test["line_no"] == 0
        assert isinstance(test["score"], (int, float)) and isinstance(test["message"], str)


def test_classroom_points_line_matches_what_the_reporter_totals(report: dict) -> None:
    encoded, points = export.classroom(report)
    payload = _decode(encoded)
    match = POINTS.fullmatch(points)
    assert match is not None
    assert float(match[1]) == pytest.approx(sum(test["score"] for test in payload["tests"]))
    assert float(match[2]) == pytest.approx(payload["max_score"])


@pytest.mark.parametrize(
    ("make", "status", "points"),
    [
        (full_marks, "pass", "Points 4/4"),
        (mixed, "fail", "Points 3.5/9"),
        (broken, "error", "Points 0/0"),
    ],
)
def test_classroom_status_and_points(make: Any, status: str, points: str) -> None:
    encoded, line = export.classroom(make())
    assert _decode(encoded)["status"] == status
    assert line == points


def test_classroom_ignores_extra_credit_for_pass_or_fail() -> None:
    report = full_marks()
    report["sections"].append(_section("bonus", [_test("bonus::conv", "failed", 0, 1)], True))
    assert _decode(export.classroom(report)[0])["status"] == "pass"


def test_classroom_points_are_plain_decimals() -> None:
    report = full_marks()
    report["score"] = 1 / 3
    assert export.classroom(report)[1] == "Points 0.33/4"


def test_classroom_payload_fits_in_one_environment_variable() -> None:
    report = mixed()
    for test in _all_tests(report):
        test["feedback"] = "expected 1.0, got 2.0; " * 2000
    report["sections"][0]["tests"] *= 40
    encoded, _ = export.classroom(report)
    assert len("SCRATCHGRAD_RESULTS=" + encoded) < 128 * 1024  # Linux's MAX_ARG_STRLEN
    messages = [test["message"] for test in _decode(encoded)["tests"]]
    assert any(
        message.endswith("(cut short; the full feedback is in the JSON report)")
        for message in messages
    )


def test_classroom_withholds_hidden_test_details() -> None:
    encoded, _ = export.classroom(mixed())
    decoded = base64.b64decode(encoded).decode()
    assert SECRET not in decoded and "tanh_hidden" not in decoded
    names = [test["name"] for test in _decode(encoded)["tests"]]
    assert names.count("Hidden test in Engine") == 2


# JUnit XML, checked against the rules of Jenkins xunit-plugin's junit-10.xsd.


def _parse(report: dict) -> ET.Element:
    return ET.fromstring(export.junit_xml(report).encode("utf-8"))


def test_junit_follows_the_xsd(report: dict) -> None:
    root = _parse(report)
    assert root.tag == "testsuites"
    for element in root.iter():
        assert set(element.attrib) <= XSD_ATTRIBUTES[element.tag], element.tag
        assert XSD_REQUIRED.get(element.tag, set()) <= set(element.attrib), element.tag
        children = {child.tag for child in element}
        assert children <= XSD_CHILDREN.get(element.tag, set()), element.tag


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


def test_junit_has_a_suite_per_section_and_a_case_per_test(report: dict) -> None:
    suites = _parse(report).findall("testsuite")
    sections = [suite for suite in suites if suite.get("name") != "errors"]
    assert [suite.get("name") for suite in sections] == [s["id"] for s in report["sections"]]
    for suite, section in zip(sections, report["sections"], strict=True):
        cases = suite.findall("testcase")
        assert [case.get("name") for case in cases] == [test["id"] for test in section["tests"]]
        assert {case.get("classname") for case in cases} <= {section["id"]}


def test_junit_outcomes_carry_the_feedback() -> None:
    cases = {case.get("name"): case for case in _parse(mixed()).iter("testcase")}
    assert len(cases["engine::add"]) == 0
    failure = cases["engine::mul_backward"].find("failure")
    assert failure is not None
    assert failure.get("message") == PIPE_FEEDBACK.replace("\x1b", "\N{REPLACEMENT CHARACTER}")
    assert cases["engine::deep_chain"].find("error") is not None
    assert cases["training::step"].find("error") is not None
    assert cases["training::converges"].find("skipped") is not None
    hidden = cases["engine::tanh_hidden"].find("failure")
    assert hidden is not None and hidden.get("message") == HIDDEN


def test_junit_reports_errors_as_a_failing_suite() -> None:
    root = _parse(broken())
    assert root.get("errors") == "1" and root.get("tests") == "1"
    error = root.find("testsuite[@name='errors']/testcase/error")
    assert error is not None and error.get("message") == broken()["errors"][0]["message"]


# Markdown for $GITHUB_STEP_SUMMARY.


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def _table_after(text: str, heading: str) -> list[list[str]]:
    lines = text.split(heading, 1)[1].lstrip("\n").splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return rows


def test_markdown_heading_and_section_table(report: dict) -> None:
    text = export.markdown(report)
    score, max_score = report["score"], report["max_score"]
    assert text.startswith(f"## scratchgrad: {score:g} / {max_score:g} points\n")
    if report["sections"]:
        rows = _table_after(text, "points\n")
        assert rows[0] == ["Section", "Score", "Max"]
        assert len(rows) == 2 + len(report["sections"])
        assert all(len(row) == 3 for row in rows)


def test_markdown_lists_every_test_not_passed_in_one_row_each() -> None:
    text = export.markdown(mixed())
    rows = _table_after(text, "### Tests not passed\n")
    assert rows[0] == ["Section", "Test", "Status", "Feedback"]
    statuses = ["failed", "timeout", "failed", "error", "skipped", "failed"]
    assert [row[2] for row in rows[2:]] == statuses
    assert all(len(row) == 4 for row in rows)


def test_markdown_escapes_table_cells() -> None:
    text = export.markdown(mixed())
    row = next(line for line in text.splitlines() if "mul_backward" in line)
    assert "got 0 \\| b.grad=2<br>rule:" in row
    assert "&lt;lambda&gt;" in row and "<lambda>" not in row
    assert "\x1b" not in row


def test_markdown_withholds_hidden_feedback_and_shows_extra_credit() -> None:
    text = export.markdown(mixed())
    assert SECRET not in text and "tanh_hidden" not in text
    assert HIDDEN in text
    assert "Extra credit: 1 / 2 points" in text
    assert "| Bonus (extra credit) | 1 | 2 |" in text


def test_markdown_mentions_held_back_points_and_errors() -> None:
    assert "Hidden tests worth 3 points were not run here." in export.markdown(full_marks())
    assert "Hidden tests worth" not in export.markdown(mixed())
    text = export.markdown(broken())
    assert "### Errors" in text and "**syntax_error**" in text
    assert "| Section |" not in text
