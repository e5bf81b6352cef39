"""The pytest plugin object that connects the grader's suites to one submission's worker.

It provides the fixtures (`lab`: the worker, the oracle and the case record; `secret_seed`),
spreads each test's points over its parametrized cases in exact eighths, and turns every test's
ending into a result: status, feedback and what the case learnt (`checks.Case`), in `results`.
"""

from __future__ import annotations

import gc

import pytest

from grader.checks import Case, Failure, Lab
from grader.oracle import Oracle, TorchMissing
from grader.worker import Worker, WorkerUnavailable

MARKERS = (
    "points(n): points of this test, shared equally by its parametrized cases",
    "task(id): the exercise task this test checks, e.g. '2.4'",
    "hidden: a hidden test, run only where the instructor's suites are present",
    "group(name): cases that check the same thing; by default a test function's cases",
    "topology: a check of backward()'s walk (reuse, order): a wrong value there is a bug in "
    "backward(), which excuses a failed one-pass check",
    "costly: a test of large graphs, run after the others so that a slow submission spends "
    "its time budget last",
)
QUANTUM = 8
"""Points are split into multiples of 1/8: sums of such numbers are exact in any order."""


class GradingPlugin:
    """Fixtures and result hooks for one grading run."""

    def __init__(
        self,
        worker: Worker,
        oracle: Oracle,
        hidden_oracle: Oracle,
        secret_seed: int | None,
        run_hidden: bool,
    ) -> None:
        self._worker = worker
        self._oracle = oracle
        self._hidden_oracle = hidden_oracle
        self._secret_seed = secret_seed
        self._run_hidden = run_hidden
        self.grader_errors: list[str] = []
        self.results: list[dict] = []
        """Each case that ran, in order: its node id, phase durations and metadata."""
        self._hidden_started = False
        self.held_back = 0.0
        """Points of hidden tests that were present but not run."""

    @pytest.fixture
    def lab(self, request: pytest.FixtureRequest) -> Lab:
        """Hidden tests use an oracle whose expectations never go to the shared cache."""
        hidden = request.node.get_closest_marker("hidden") is not None
        if hidden and not self._hidden_started:
            # Hidden tests run last, in a worker that never answered a visible one: what a
            # submission learns of their inputs cannot reach a visible test's feedback.
            self._hidden_started = True
            self._worker.restart()
        case = Case()
        request.node.stash[CASE] = case
        return Lab(self._worker, self._hidden_oracle if hidden else self._oracle, case)

    @pytest.fixture
    def secret_seed(self) -> int:
        if self._secret_seed is None:
            pytest.skip("hidden tests need the course's secret seed")
        return self._secret_seed

    def pytest_configure(self, config: pytest.Config) -> None:
        for line in MARKERS:
            config.addinivalue_line("markers", line)

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        by_function: dict[str, list[pytest.Item]] = {}
        for item in items:
            by_function.setdefault(_function_id(item), []).append(item)
        for cases in by_function.values():
            marker = cases[0].get_closest_marker("points")
            shares = split_points(marker.args[0] if marker else 0.0, len(cases))
            for item, share in zip(cases, shares, strict=True):
                item.stash[POINTS] = share
        items.sort(  # stable: hidden tests last, and large graphs last within each part
            key=lambda item: (
                item.get_closest_marker("hidden") is not None,
                item.get_closest_marker("costly") is not None,
            )
        )
        if not self._run_hidden:
            hidden = [item for item in items if item.get_closest_marker("hidden")]
            self.held_back = sum(item.stash[POINTS] for item in hidden)
            items[:] = [item for item in items if not item.get_closest_marker("hidden")]
            config.hook.pytest_deselected(items=hidden)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """What is loaded now (pytest, the suites, their probes) lives until the grading ends:
        the cyclic GC need not walk it again after every few thousand new objects."""
        gc.freeze()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if call.when == "setup" and report.skipped:
            item.stash[VERDICT] = ("skipped", _skip_reason(call))
        if call.when == "call":
            self._verdict(item, call)
        self._record(item, call, report)

    def _verdict(self, item: pytest.Item, call: pytest.CallInfo) -> None:
        if call.excinfo is None:
            item.stash[VERDICT] = ("passed", "")
        elif isinstance(call.excinfo.value, Failure):
            failure = call.excinfo.value
            item.stash[VERDICT] = (failure.status, _with_task(item, failure))
            case = item.stash.setdefault(CASE, Case())
            if failure.whole_submission:
                case.raised = "submission"
            elif failure.error is not None and failure.error.type == "NotImplementedError":
                case.raised = failure.error.task
        elif call.excinfo.errisinstance(pytest.skip.Exception):
            item.stash[VERDICT] = ("skipped", _skip_reason(call))
        elif isinstance(call.excinfo.value, (TorchMissing, WorkerUnavailable)):
            message = str(call.excinfo.value)
            self.grader_errors.append(f"{item.nodeid}: {message}")
            item.stash[VERDICT] = ("error", f"the grader could not check this test: {message}")
        else:
            message = f"{call.excinfo.typename}: {call.excinfo.value}"
            self.grader_errors.append(f"{item.nodeid}: {message}")
            item.stash[VERDICT] = ("error", f"the grader itself failed on this test ({message})")

    def _record(self, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> None:
        """Add up the phases' durations; after the last phase, keep the case's result."""
        item.stash[DURATION] = item.stash.get(DURATION, 0.0) + call.duration
        if call.when == "teardown":
            self.results.append(
                {
                    "nodeid": item.nodeid,
                    "duration": item.stash[DURATION],
                    "metadata": self._metadata(item),
                }
            )

    def _metadata(self, item: pytest.Item) -> dict:
        status, feedback = item.stash.get(VERDICT, ("error", "the test did not run"))
        task = item.get_closest_marker("task")
        group = item.get_closest_marker("group")
        case = item.stash.get(CASE, Case())
        return {
            "status": status,
            "feedback": feedback,
            "points": item.stash.get(POINTS, 0.0),
            "task": task.args[0] if task else None,
            "name": _name(item),
            "visibility": "hidden" if item.get_closest_marker("hidden") else "visible",
            "group": group.args[0] if group else _function_id(item),
            "needs": sorted(case.needs),
            "gate": case.gate,
            "large": item.get_closest_marker("costly") is not None,
            "topology": item.get_closest_marker("topology") is not None and not case.wrong_at_root,
            "consistent": case.consistent,
            "details": case.details,
            "raised": case.raised,
            "own_forward": case.own_forward,
        }


def split_points(points: float, cases: int) -> list[float]:
    """`points` shared by `cases` in multiples of 1/QUANTUM, as evenly as that allows, the
    larger shares first; they add up to `points` exactly."""
    eighths = round(points * QUANTUM)
    base, extra = divmod(eighths, cases)
    return [(base + (i < extra)) / QUANTUM for i in range(cases)]


POINTS = pytest.StashKey[float]()
DURATION = pytest.StashKey[float]()
VERDICT = pytest.StashKey[tuple[str, str]]()
CASE = pytest.StashKey[Case]()


def _function_id(item: pytest.Item) -> str:
    return item.nodeid.split("[", 1)[0]


def _name(item: pytest.Item) -> str:
    """The test's docstring line, plus the case's parameters."""
    doc = (getattr(item, "function", None).__doc__ or item.name).strip().splitlines()[0]
    case = item.nodeid.partition("[")[2].rstrip("]")
    return f"{doc.rstrip('.')} [{case}]" if case else doc.rstrip(".")


def _with_task(item: pytest.Item, failure: Failure) -> str:
    """Name the task the test checks, and say when a missing prerequisite blocked it."""
    marker = item.get_closest_marker("task")
    task = marker.args[0] if marker else None
    error = failure.error
    message = failure.message
    if failure.whole_submission:
        return message
    if (
        error is not None
        and error.type == "NotImplementedError"
        and error.task
        and task
        and error.task != task
    ):
        needed = error.message.removeprefix(f"Task {error.task}:").strip()
        return (
            f"blocked: Task {task} needs Task {error.task}, which is not implemented yet ({needed})"
        )
    if task and f"Task {task}" not in message:
        message += f" (Task {task})"
    return message


def _skip_reason(call: pytest.CallInfo) -> str:
    value = call.excinfo.value if call.excinfo else None
    return str(getattr(value, "msg", value) or "not run")
