"""Batch grading on a Dask cluster: one task per entry, graded on the worker by a harness that
the worker process keeps between tasks, so each entry pays a fork, not a start-up."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from grader.batch.entries import Entry, error_text
from grader.batch.forkserver import Settings
from grader.batch.harness import Harness, failure
from grader.submission import UsageError
from grader.worker_process import remove_tree

POLL_S = 0.2
"""How often the batch looks for finished tasks and, every few polls, for live workers."""


class DaskPool:
    """The cluster at `address` as a pool: results in completion order; leaving the `with`
    cancels the tasks not started yet."""

    def __init__(self, address: str, settings: Settings, timeout_s: float) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install scratchgrad[dask]") from None
        self.address, self.settings, self.timeout_s = address, settings, timeout_s
        try:
            # Client(timeout=...) waits forever on a peer that accepts and never answers.
            asyncio.run(asyncio.wait_for(_identity(address, timeout_s), timeout_s))
            self.client = Client(address, timeout=timeout_s)
        except Exception as exc:  # OSError, TimeoutError, or Dask's own kinds
            raise UsageError(
                f"the Dask scheduler at {address} did not answer within {timeout_s:g} s "
                f"({error_text(exc)}). Is `dask scheduler` running there?"
            ) from None
        self.futures: dict = {}

    def results(self, entries: list[Entry]) -> Iterator[tuple[Entry, dict]]:
        if not entries:
            return
        self._wait_for_workers("has no workers")
        token = uuid.uuid4().hex[:8]
        self.futures = {
            self.client.submit(
                grade_on_worker, e, self.settings, pure=False, key=f"scratchgrad-{token}-{i}"
            ): e
            for i, e in enumerate(entries)
        }
        pending, polls = set(self.futures), 0
        while pending:
            finished = [f for f in pending if f.done()]
            for future in finished:
                pending.discard(future)
                yield self.futures[future], _outcome(future)
            polls += 1
            if not finished and polls % 25 == 0:  # every 5 s: a cluster that lost its workers
                self._wait_for_workers("lost all its workers")
            if not finished:
                time.sleep(POLL_S)

    def _wait_for_workers(self, problem: str) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.timeout_s)
        except TimeoutError:
            raise UsageError(
                f"the Dask scheduler at {self.address} {problem} (waited "
                f"{self.timeout_s:g} s). Start some: dask worker {self.address} --nthreads 1"
            ) from None

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel(list(self.futures))
        with contextlib.suppress(Exception):
            self.client.close(timeout=self.timeout_s)


async def _identity(address: str, timeout_s: float) -> dict:
    """The scheduler's answer to `identity`: proof that it is there and speaks Dask."""
    from distributed.core import rpc

    async with rpc(address, timeout=timeout_s) as scheduler:
        return await scheduler.identity()


def _outcome(future) -> dict:
    try:
        return future.result()
    except Exception as exc:  # a lost worker, a task killed by the scheduler
        return failure(f"the Dask task failed ({error_text(exc)})")


_idle: list[Harness] = []
"""This worker process's harnesses between tasks (a worker with N threads keeps up to N)."""
_lock = threading.Lock()
_root: list[Path] = []


def grade_on_worker(entry: Entry, settings: Settings) -> dict:
    """The Dask task: grade one entry with a harness this worker process keeps."""
    harness = _take(settings.needs_torch)
    try:
        return harness.grade(entry, settings)
    except Exception as exc:  # HarnessFailed: it restarts for the next task
        return failure(error_text(exc))
    finally:
        with _lock:
            _idle.append(harness)


def _take(preload_torch: bool) -> Harness:
    with _lock:
        for harness in _idle:
            if harness.preload_torch == preload_torch:
                _idle.remove(harness)
                return harness
        if not _root:
            _root.append(Path(tempfile.mkdtemp(prefix="scratchgrad-dask-")))
            atexit.register(_close)
        return Harness(_root[0], preload_torch)


def _close() -> None:
    """At the worker's exit: stop its servers and remove their folders."""
    for harness in _idle:
        harness.close()
    for root in _root:
        with contextlib.suppress(OSError):
            remove_tree(root)
