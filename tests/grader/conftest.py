"""Run `python -m grader` as a student would: in subprocesses, two at a time, one oracle cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest

PARALLEL_RUNS = 2


@dataclass(frozen=True)
class Run:
    """One finished `python -m grader` run."""

    returncode: int
    stdout: str
    stderr: str
    report: dict | None
    """The JSON report, or None when the run wrote none."""

    def cases(self) -> list[dict]:
        return [test for section in self.report["sections"] for test in section["tests"]]

    def case(self, test_id: str) -> dict:
        return next(test for test in self.cases() if test["id"] == test_id)


class GraderPool:
    """`python -m grader` in a pool of subprocesses that share one oracle cache folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL_RUNS)
        self._numbers = count()
        self._env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SCRATCHGRAD_", "PYTEST_"))
        }
        self._env["SCRATCHGRAD_CACHE"] = os.environ["SCRATCHGRAD_CACHE"]  # tests/conftest.py

    def submit(self, path: Path | str, *args: str, after: Future | None = None) -> Future[Run]:
        """Grade `path` with these extra arguments when a slot is free and `after` is done.

        `after` is a run submitted earlier (runs start in order, so waiting cannot deadlock),
        e.g. one that fills the oracle cache first."""

        def grade() -> Run:
            if after is not None:
                after.result()
            return self.run(path, *args)

        return self._pool.submit(grade)

    def run(self, path: Path | str, *args: str) -> Run:
        report = self.folder / f"report-{next(self._numbers)}.json"
        done = subprocess.run(
            [sys.executable, "-m", "grader", str(path), "--json", str(report), "-q", *args],
            cwd=self.folder,
            env=self._env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        content = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
        return Run(done.returncode, done.stdout, done.stderr, content)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session")
def grader_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraderPool]:
    pool = GraderPool(tmp_path_factory.mktemp("grader-runs"))
    yield pool
    pool.close()
