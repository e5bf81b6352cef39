"""grader/tasks.py: one table of task ids ties the stubs, docs/api.md, the suites and blame."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from grader import tasks
from grader.compare import RULES
from grader.pipeline import SECTION_IDS
from grader.probes import SYMBOLS
from grader.score import SECTIONS
from grader.tasks import DERIVED, FORWARD, RULE, TASKS, needs_of_ops, rank, section_of, title

REPO = Path(__file__).resolve().parents[2]
NUMERIC_ORDER = [f"1.{n}" for n in range(1, 12)] + [f"2.{n}" for n in range(1, 8)]
NUMERIC_ORDER += ["3.1"] + [f"4.{n}" for n in range(1, 8)] + ["5.1", "5.2"]
SECTION_OF_PART = dict(zip("12345", SECTION_IDS, strict=True))


def ids_in(text: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, text))


def test_all_is_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(tasks).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", tasks.__name__) == tasks.__name__
    }
    assert set(tasks.__all__) == public


def test_the_task_ids_are_those_of_the_exercise_in_numeric_order() -> None:
    assert list(TASKS) == NUMERIC_ORDER
    assert all(task.id == key for key, task in TASKS.items())


def test_every_stub_raises_with_a_task_id_of_the_table() -> None:
    stubs = "".join(
        p.read_text(encoding="utf-8") for p in sorted((REPO / "exercises").glob("*.py"))
    )
    assert ids_in(stubs, r'NotImplementedError\(\s*"Task (\d+\.\d+):') == set(TASKS)


def test_docs_api_lists_the_same_tasks() -> None:
    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    assert ids_in(text, r"(?m)^\| (\d+\.\d+) \|") == set(TASKS)


def test_every_task_is_checked_by_a_public_test() -> None:
    suites = "".join(
        p.read_text(encoding="utf-8") for p in (REPO / "grader" / "suites").glob("*.py")
    )
    marked = ids_in(suites, r'mark\.task\("(\d+\.\d+)"\)') | ids_in(
        suites, r'number_case\("\w+", "(\d+\.\d+)"'
    )
    assert marked == set(TASKS)


def test_each_task_earns_points_in_the_section_of_its_part() -> None:
    assert list(SECTIONS) == list(SECTION_IDS)
    for task in TASKS.values():
        assert task.section == SECTION_OF_PART[task.id.split(".")[0]] == section_of(task.id)
        assert title(task.id) == task.title and task.title


def test_unknown_tasks_have_a_title_and_no_section() -> None:
    assert title("9.9") == "Task 9.9"
    assert section_of("9.9") is None and section_of("submission") is None


def test_rank_orders_tasks_numerically_and_unknown_ones_last() -> None:
    assert sorted(reversed(NUMERIC_ORDER), key=rank) == NUMERIC_ORDER
    assert rank("1.2") < rank("1.10") < rank("1.11") < rank("2.1") < rank("3.1") < rank("5.2")
    assert rank(None) == rank("9.9") == rank("submission") > rank("5.2")


@pytest.mark.parametrize("table", [FORWARD, RULE], ids=["FORWARD", "RULE"])
def test_every_op_of_the_probes_has_a_task(table: dict[str, str]) -> None:
    ops = set(SYMBOLS) | {"neg", "tanh", "exp", "relu", "log"}
    assert set(table) == ops == set(RULES)
    assert set(table.values()) <= set(TASKS)


def test_forward_tasks_are_in_forward_and_rules_in_backward_but_derived_ops() -> None:
    assert {TASKS[t].section for t in FORWARD.values()} == {"forward"}
    for op, task in RULE.items():
        assert TASKS[task].section == ("forward" if op in DERIVED else "backward")
        assert (task == FORWARD[op]) is (op in DERIVED)
    assert all(op not in parts and set(parts) <= set(FORWARD) for op, parts in DERIVED.items())


@pytest.mark.parametrize(
    "ops, rules, needs",
    [
        ({"tanh"}, False, {"1.4"}),
        ({"tanh"}, True, {"1.4", "2.4"}),
        ({"add", "mul"}, True, {"1.1", "1.2", "2.1", "2.2"}),
        ({"sub"}, False, {"1.9", "1.1", "1.8", "1.2"}),
        ({"sub"}, True, {"1.9", "1.1", "1.8", "1.2", "2.1", "2.2"}),
        ({"div"}, True, {"1.10", "1.2", "1.3", "2.2", "2.3"}),
        ({"neg"}, True, {"1.8", "1.2", "2.2"}),
        (set(), True, set()),
    ],
)
def test_needs_of_ops(ops: set[str], rules: bool, needs: set[str]) -> None:
    assert needs_of_ops(ops, rules=rules) == needs
