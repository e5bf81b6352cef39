"""Fixtures of the hostile suite: the grading pool, the report schema, and clean-up."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from grading_runs import (
    Case,
    Gradings,
    reference_module,
    secrets_folder,
    share_a_session_keyring,
    stubs_module,
)

from grader.report import schema as report_schema


@pytest.fixture(scope="session", autouse=True)
def _session_keyring() -> None:
    """Before any grading thread starts: so that test_attacks can check that no worker
    reaches it."""
    share_a_session_keyring()


@pytest.fixture(scope="module")
def gradings(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Gradings]:
    """A pool per test module, which starts every case its module's tests are parametrized
    with (so that pytest-xdist, which runs a module in one process, grades each case once)."""
    pool = Gradings(tmp_path_factory.mktemp("hostile"))
    secrets_folder(), reference_module(), stubs_module()  # built once, before the threads
    cases = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and getattr(item, "module", None) is request.module:
            cases += [param for param in callspec.params.values() if isinstance(param, Case)]
    pool.start(cases)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def schema() -> dict:
    return report_schema()


@pytest.fixture(scope="session", autouse=True)
def _remove_secrets() -> Iterator[None]:
    yield
    if secrets_folder.cache_info().currsize:
        shutil.rmtree(secrets_folder(), ignore_errors=True)
