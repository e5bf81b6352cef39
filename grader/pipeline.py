"""The whole grading flow, in one function."""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader import __version__, submission
from grader.blame import blame
from grader.oracle import Oracle, installed_torch_version
from grader.protocol import API_NAMES
from grader.report import Report
from grader.score import outcomes, tally
from grader.worker import Limits, Worker

SUITES = Path(__file__).with_name("suites")
HIDDEN_SUITES = Path(__file__).with_name("hidden")
HELD_BACK_FILE = Path(__file__).with_name("hidden_points.json")
"""Written by `release`, where the hidden suites are left out: how many points they hold."""
SECTION_IDS = ("forward", "backward", "backprop", "nn", "training")


@dataclass(frozen=True)
class Options:
    """How to grade: which sections, with which limits, caching and suites."""

    sections: tuple[str, ...] = SECTION_IDS
    """Section ids to run, in order."""
    limits: Limits = field(default_factory=Limits)
    """Sandbox limits for the worker."""
    cache_dir: Path | None = None
    """Oracle cache folder; None disables the cache."""
    run_hidden: bool = False
    """Run the hidden suites (present only in the instructor's copy and the autograder)."""
    secret_seed: int | None = None
    """Seed for hidden tests' inputs, from the course configuration."""
    expectations: tuple[Path, ...] = ()
    """Expectation files or folders to read before the cache (`--expectations DIR`)."""
    torch_only: bool = False
    """Compute every expectation with torch: no shipped expectations, no cache (--no-cache)."""

    @property
    def needs_torch(self) -> bool:
        """Whether grading computes with torch: --no-cache, or hidden tests that will run (a
        seed is known) with no expectations written for them beforehand."""
        return self.torch_only or (
            self.run_hidden and self.secret_seed is not None and not self.expectations
        )


def grade(path: Path, options: Options, oracles: tuple[Oracle, Oracle] | None = None) -> Report:
    """Grade the submission at `path` and return its report.

    1. `submission.load` reads the submission as files (a notebook as JSON) and fingerprints
       it; it raises UsageError only when there is nothing gradable at `path`.
    2. A `Worker` (a confined `python -I -S` subprocess) imports a copy of it on the first
       request, and again after a timeout or crash.
    3. pytest runs the grader's suites in this process with `GradingPlugin`: each test sends
       probes (inputs only) to the worker, checks each reply at the boundary (`protocol`),
       asks the `Oracle` (shipped expectations, the cache, or torch) for the expected
       numbers, compares them and leaves a status, feedback and what it relied on.
    4. `blame` charges each failure to the task where the bug is, and lists what to fix
       first; `tally` turns the charged cases into sections and points.
    5. The `Report` gathers points, root causes, problems, the environment and the limits.

    `oracles` (public, hidden) replaces the oracles made from `options`.
    """
    started, clock = datetime.now(timezone.utc), time.monotonic()
    found = submission.load(path)
    oracle, hidden_oracle = oracles or (
        Oracle(
            None if options.torch_only else options.cache_dir,
            options.expectations,
            shipped=not options.torch_only,
        ),
        Oracle(None, options.expectations, shipped=False),
    )
    if options.torch_only:
        oracle.prefetch_torch()
    with Worker(found, options.limits) as worker:
        worker.start()  # it imports the submission while pytest loads the suites
        from grader.plugin import GradingPlugin

        plugin = GradingPlugin(
            worker, oracle, hidden_oracle, options.secret_seed, options.run_hidden
        )
        results = run_suites(plugin, suite_files(options))
        errors = submission_errors(found, worker) + [
            {"kind": "grader", "message": m} for m in plugin.grader_errors
        ]
        limits = dict(worker.limits_in_force)
        output = worker.output
    blocking = next((e["message"] for e in errors if e["kind"] in BLOCKING), None)
    cases, causes = blame(outcomes(results), blocking)
    sections = tally([(case.id.split("::", 1)[0], case) for case in cases])
    return Report(
        score=sum(s.score for s in sections),
        max_score=sum(s.max_score for s in sections),
        sections=tuple(sections),
        root_causes=tuple(causes),
        hidden_points_held_back=plugin.held_back + released_hidden_points(),
        errors=tuple(errors),
        submission={"path": str(path), "kind": found.kind, "sha256": found.sha256},
        environment={
            "python": platform.python_version(),
            "torch": installed_torch_version(),
            "grader": __version__,
            "platform": sys.platform,
            "limits": limits,
        },
        student_output={
            "text": output.text.decode("utf-8", "replace"),
            "bytes": output.total,
            "truncated": output.total > len(output.text),
        },
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - clock, 3),
    )


BLOCKING = ("submission", "import", "missing_names")
"""Kinds of problem that stop the submission as a whole: shown once, before everything."""


def suite_files(options: Options) -> list[Path]:
    """Each section's public suite, then its hidden suite where present (the plugin deselects
    hidden tests unless asked to run them, counting their points as held back)."""
    files = []
    for section in options.sections:
        files.append(SUITES / f"test_{section}.py")
        hidden = HIDDEN_SUITES / f"hidden_test_{section}.py"
        if hidden.exists():
            files.append(hidden)
    return files


def released_hidden_points() -> float:
    """Points of hidden suites left out of a student release (0 in the instructor's copy)."""
    if HIDDEN_SUITES.exists() or not HELD_BACK_FILE.exists():
        return 0.0
    return float(json.loads(HELD_BACK_FILE.read_text(encoding="utf-8"))["points"])


def check_oracle(options: Options) -> None:
    """Stop before grading when expected values would be missing: hidden tests' values are
    computed with the course's seed (by torch, or earlier into --expectations DIR), and
    --no-cache computes every value with torch."""
    if not options.needs_torch or installed_torch_version() is not None:
        return
    if options.torch_only:
        raise submission.UsageError(
            f"--no-cache computes every expected value with torch, which is not installed. {TORCH}"
        )
    raise submission.UsageError(
        "--hidden needs the hidden tests' expected values, which torch computes and is "
        f"not installed here. {TORCH} Or pass --expectations DIR, written where torch is "
        "by `python -m grader expectations --hidden --out DIR`."
    )


TORCH = (
    "Install it: pip install torch --index-url https://download.pytorch.org/whl/cpu && "
    "pip install 'scratchgrad[oracle]'."
)


def course_seed(course_file: Path | None) -> int | None:
    """The secret seed: $SCRATCHGRAD_SECRET_SEED, else `secret_seed` in the course file
    (default: course.json in the current folder, then beside the grader package)."""
    if os.environ.get("SCRATCHGRAD_SECRET_SEED"):
        return seed_of(os.environ["SCRATCHGRAD_SECRET_SEED"], "$SCRATCHGRAD_SECRET_SEED")
    candidates = (
        [course_file]
        if course_file
        else [Path("course.json"), Path(__file__).parent.parent / "course.json"]
    )
    for path in candidates:
        if path.is_file():
            return course_file_seed(path)
    return None


def course_file_seed(path: Path) -> int:
    """`secret_seed` in the course file at `path`, or a usage error saying what is wrong."""
    try:
        course = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise submission.UsageError(f"Cannot read the course file {path}: {exc}") from None
    if not isinstance(course, dict) or "secret_seed" not in course:
        raise submission.UsageError(
            f"The course file {path} has no secret_seed. "
            'Write it as {"secret_seed": <a number only you know>}.'
        )
    return seed_of(course["secret_seed"], f"secret_seed in {path}")


def seed_of(value: object, where: str) -> int:
    """The seed as an integer (a JSON number or a string of digits), or a usage error naming
    where it came from."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    raise submission.UsageError(
        f"{where} must be a whole number, such as 81462930; it is {value!r}."
    )


def run_suites(plugin, files: list[Path]) -> list[dict]:
    """pytest.main in this process, quiet, with nothing loaded from outside the grader;
    each case's result, in order."""
    import pytest

    with isolated_pytest():
        pytest.main(pytest_args(files), plugins=[plugin])
    return plugin.results


@contextlib.contextmanager
def isolated_pytest() -> Iterator[io.StringIO]:
    """No plugins or options from the environment; pytest's own output kept out of sight."""
    saved = {k: os.environ.pop(k) for k in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS") if k in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield log
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        os.environ.update(saved)


def pytest_args(files: list[Path]) -> list[str]:
    """The grader's own ini and rootdir, no conftest, no cache, no assertion rewriting."""
    return [
        *map(str, files),
        "-c",
        str(SUITES / "pytest.ini"),
        "--rootdir",
        str(SUITES.parent),
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        "--assert=plain",
        "--capture=no",  # the tests print nothing; the worker's output has pipes of its own
        "-q",
        *(arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")),
    ]


UNUSED_PLUGINS = (
    "logging",
    "faulthandler",
    "junitxml",
    "doctest",
    "pastebin",
    "stepwise",
    "lfplugin",
    "legacypath",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    "unraisableexception",
    "threadexception",
    "setuponly",
    "setupplan",
    "nose",
)
"""pytest's own plugins that the suites do not use: each adds work to every test."""


def submission_errors(found: submission.Submission, worker: Worker) -> list[dict]:
    """Problems with the submission as a whole, each once (tests repeat them briefly)."""
    errors = []
    if found.problem:
        errors.append({"kind": "submission", "message": found.problem})
    load = worker.load_reply
    if load is None:
        return errors
    if load.import_error is not None:
        e = load.import_error
        where = f" at {e.file}:{e.line}" if e.file else ""
        errors.append({"kind": "import", "message": f"{e.type}{where}: {e.message}"})
    for e in load.cell_errors:
        where = f"{e.file or 'a cell'}" + (f" line {e.line}" if e.line else "")
        errors.append({"kind": "notebook_cell", "message": f"{where} raised {e.type}: {e.message}"})
    if load.cell_error_count > len(load.cell_errors):
        more = load.cell_error_count - len(load.cell_errors)
        errors.append({"kind": "notebook_cell", "message": f"and {more} more cells raised"})
    missing = [name for name in API_NAMES if name not in load.names]
    if load.import_error is None and missing:
        errors.append(
            {
                "kind": "missing_names",
                "message": "your submission defines no "
                + ", ".join(missing)
                + " (see docs/api.md for the names the grader uses)",
            }
        )
    return errors
