# ruff: noqa
"""A conftest.py in the submission folder (graded from inside that folder): if the grader's
pytest loaded it, a marker file would appear and every test would pass."""

import pathlib

import pytest

pathlib.Path("__MARKER__").write_text("conftest.py was loaded")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"


def pytest_json_runtest_metadata(item, call):
    return {"status": "passed", "points": 100.0}
