"""grader/pipeline.py end to end: `python -m grader` on whole submissions.

The reference as a package, a .py file and a notebook, an engine with other internals, the
stubs, a half-done and a broken submission: their scores, their feedback, and reports that
follow the schema and come out the same twice.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader.report import schema
from grader.stubs import build_module, build_notebook, stub_source

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS, EXERCISES = REPO / "solutions", REPO / "exercises"
INDEPENDENT = REPO / "tests" / "fixtures" / "independent_engine.py"
SECTION_POINTS = {
    "forward": 20,
    "backward": 25,
    "backprop": 25,
    "nn": 15,
    "training": 15,
}
TASK_IDS = [f"1.{n}" for n in range(1, 12)] + [f"2.{n}" for n in range(1, 8)]
TASK_IDS += ["3.1"] + [f"4.{n}" for n in range(1, 8)] + ["5.1", "5.2"]
CORRECT = ("reference package", "reference module", "reference notebook", "independent engine")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("submissions")
    module = folder / "reference.py"
    module.write_text(build_module(SOLUTIONS, solutions=True), encoding="utf-8")
    notebook = folder / "reference.ipynb"
    nbformat.write(build_notebook(SOLUTIONS, solutions=True), notebook)
    backward_not_started = folder / "backward_not_started"
    shutil.copytree(SOLUTIONS, backward_not_started, ignore=shutil.ignore_patterns("__pycache__"))
    engine = backward_not_started / "engine.py"
    engine.write_text(
        stub_source(engine.read_text(encoding="utf-8"), tasks={"3.1"}), encoding="utf-8"
    )
    missing_colon = folder / "missing_colon.py"
    missing_colon.write_text(
        module.read_text(encoding="utf-8").replace(
            "    def backward(self) -> None:\n", "    def backward(self) -> None\n"
        ),
        encoding="utf-8",
    )
    return {
        "reference package": SOLUTIONS,
        "reference module": module,
        "reference notebook": notebook,
        "independent engine": INDEPENDENT,
        "stubs": EXERCISES,
        "backward not started": backward_not_started,
        "missing colon": missing_colon,
    }


@pytest.fixture(scope="module")
def graded(grader_pool, submissions: dict[str, Path]) -> dict[str, Future]:
    """Every submission's run, all queued at once; the repeat waits for a warm oracle cache."""
    later = ("backward not started", "reference notebook")
    runs = {
        name: grader_pool.submit(path) for name, path in submissions.items() if name not in later
    }
    runs["backward not started"] = grader_pool.submit(
        submissions["backward not started"], "--section", "forward", "--section", "backward"
    )
    for name in ("reference notebook", "reference notebook, again"):
        runs[name] = grader_pool.submit(
            submissions["reference notebook"], after=runs["reference package"]
        )
    return runs


def scores(run) -> dict[str, tuple[float, float]]:
    return {s["id"]: (s["score"], s["max_score"]) for s in run.report["sections"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", CORRECT)
def test_a_correct_submission_earns_every_point(graded: dict[str, Future], name: str) -> None:
    run = graded[name].result()
    assert run.returncode == 0, run.stderr
    assert (run.report["score"], run.report["max_score"]) == (100, 100)
    assert scores(run) == {s: (p, p) for s, p in SECTION_POINTS.items()}
    assert [c["id"] for c in run.cases() if c["status"] != "passed" or c["feedback"]] == []
    assert run.report["errors"] == []
    assert run.stdout.startswith("Score: 100/100")


@pytest.mark.slow
def test_each_form_of_submission_is_graded_as_its_kind(graded: dict[str, Future]) -> None:
    kinds = {name: graded[name].result().report["submission"]["kind"] for name in CORRECT}
    assert kinds == {
        "reference package": "package",
        "reference module": "module",
        "reference notebook": "notebook",
        "independent engine": "module",
    }
    output = graded["reference notebook"].result().report["student_output"]
    assert "step  0: loss" not in output["text"]  # the demo cells are tagged skip-grading
    assert not output["truncated"]


@pytest.mark.slow
def test_points_of_a_test_are_shared_in_exact_eighths(graded: dict[str, Future]) -> None:
    cases = graded["reference package"].result().cases()
    assert len({case["id"] for case in cases}) == len(cases)
    shares = defaultdict(list)
    for case in cases:
        shares[case["id"].split("[")[0]].append(case["max_score"])
        assert (case["max_score"] * 8).is_integer()
    uneven = {test: p for test, p in shares.items() if max(p) - min(p) > 0.125}
    assert uneven == {}
    total = 0.0
    for case in reversed(cases):  # any order gives the exact total
        total += case["score"]
    assert total == 100


@pytest.mark.slow
def test_the_stubs_earn_nothing_and_name_every_task(graded: dict[str, Future]) -> None:
    run = graded["stubs"].result()
    assert run.returncode == 0, run.stderr
    assert run.report["score"] == 0 and run.report["max_score"] == 100
    assert all(section["score"] == 0 for section in run.report["sections"])
    assert {case["status"] for case in run.cases()} == {"error", "blocked"}
    untold = [
        task
        for task in TASK_IDS
        if not any(
            f"Task {task}" in case["feedback"] and "not implemented yet" in case["feedback"]
            for case in run.cases()
        )
    ]
    assert untold == []
    causes = [cause["task"] for cause in run.report["root_causes"]]
    assert causes[:3] == ["1.1", "1.2", "1.3"] and len(causes) == len(set(causes))


@pytest.mark.slow
def test_a_missing_prerequisite_blocks_the_tests_that_need_it(graded: dict[str, Future]) -> None:
    run = graded["backward not started"].result()
    assert scores(run) == {"forward": (20, 20), "backward": (0, 25)}
    tanh = run.case("backward::test_tanh[0.5]")
    assert (tanh["status"], tanh["blocked_by"]) == ("blocked", "3.1")
    assert tanh["feedback"].startswith("blocked by Task 3.1, Value.backward")
    assert "Task 2.4 needs Task 3.1, which is not implemented yet" in tanh["feedback"]
    assert [c["task"] for c in run.report["root_causes"]] == ["3.1"]
    stub = graded["stubs"].result().case("backward::test_mul[2.0--3.0]")
    assert stub["blocked_by"] == "1.2" and stub["feedback"].startswith("blocked by Task 1.2")


@pytest.mark.slow
def test_a_syntax_error_is_a_result_that_points_at_the_line(
    graded: dict[str, Future], submissions: dict[str, Path]
) -> None:
    run = graded["missing colon"].result()
    assert run.returncode == 0, run.stderr
    assert run.report["score"] == 0 and {c["status"] for c in run.cases()} == {"blocked"}
    assert {c["blocked_by"] for c in run.cases()} == {"submission"}
    source = submissions["missing colon"].read_text(encoding="utf-8").splitlines()
    line = source.index("    def backward(self) -> None") + 1
    [error] = run.report["errors"]
    assert error["kind"] == "import"
    assert error["message"].startswith(f"SyntaxError at missing_colon.py:{line}: expected ':'")
    [cause] = run.report["root_causes"]
    assert (cause["task"], cause["message"]) == ("submission", error["message"])
    assert cause["points_lost"] == 100 and len(cause["cases"]) == len(run.cases())
    assert run.case("forward::test_add[2.0--3.5]")["feedback"] == (
        "forward of out = a + b at a=2, b=-3.5: blocked: your submission could not be imported "
        "(see the problem above)"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["reference package", "stubs", "missing colon", "backward not started"]
)
def test_reports_follow_the_schema(graded: dict[str, Future], name: str) -> None:
    jsonschema.Draft202012Validator(schema()).validate(graded[name].result().report)


def test_the_schema_requires_every_key_it_describes() -> None:
    def objects(node):
        if isinstance(node, dict):
            if "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    described = list(objects(schema()))
    assert len(described) >= 6
    for node in described:
        assert sorted(node["required"]) == sorted(node["properties"])
        assert node["additionalProperties"] is False


def without_timings(report: dict) -> dict:
    """A report without what must change between two runs: when it ran and how long it took."""
    kept = {k: v for k, v in report.items() if k not in ("started_at", "duration_s")}
    kept["sections"] = [
        {**s, "tests": [{k: v for k, v in t.items() if k != "duration_s"} for t in s["tests"]]}
        for s in report["sections"]
    ]
    return kept


@pytest.mark.slow
def test_two_runs_give_the_same_report_but_for_timings(graded: dict[str, Future]) -> None:
    first = graded["reference notebook"].result().report
    second = graded["reference notebook, again"].result().report
    assert without_timings(first) == without_timings(second)
    assert set(first) - set(without_timings(first)) == {"started_at", "duration_s"}
