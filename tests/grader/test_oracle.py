"""The oracle's on-disk cache: same answers as torch, no torch when warm, safe when shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.oracle import Oracle, installed_torch_version
from grader.pipeline import Options, grade
from grader.probes import Chain

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
SECTIONS = ("forward", "backprop")


def comparable(report) -> dict:
    """A report without what legitimately changes between runs: its times."""
    data = report.to_json() if hasattr(report, "to_json") else dict(report)
    data = json.loads(json.dumps(data))
    for key in ("started_at", "duration_s"):
        data.pop(key)
    for section in data["sections"]:
        for test in section["tests"]:
            test.pop("duration_s")
    return data


def entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json"))


def grade_in_subprocess(cache: Path, *args: str) -> subprocess.Popen:
    """python -m grader solutions on two sections, with `cache` as its oracle cache."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader",
            str(SOLUTIONS),
            "-q",
            *args,
            *(a for s in SECTIONS for a in ("--section", s)),
        ],
        env={**os.environ, "SCRATCHGRAD_CACHE": str(cache)},
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> tuple[Path, dict, dict]:
    """A cache filled by one grading: (cache, cold report, uncached report)."""
    cache = tmp_path_factory.mktemp("oracle")
    cold = grade(SOLUTIONS, Options(sections=SECTIONS, cache_dir=cache))
    uncached = grade(SOLUTIONS, Options(sections=SECTIONS, cache_dir=None))
    return cache, comparable(cold), comparable(uncached)


def test_cached_and_uncached_gradings_give_the_same_report(warm):
    cache, cold, uncached = warm
    hot = grade(SOLUTIONS, Options(sections=SECTIONS, cache_dir=cache))
    assert entries(cache)
    assert comparable(hot) == cold == uncached


def test_a_warm_cache_spares_the_torch_import(warm):
    cache, cold, _ = warm
    code = (
        "import sys; from pathlib import Path; from grader.pipeline import Options, grade; "
        f"r = grade(Path({str(SOLUTIONS)!r}), Options(sections={SECTIONS!r}, "
        f"cache_dir=Path({str(cache)!r}))); "
        "print('torch' in sys.modules, r.environment['torch'], r.score)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", installed_torch_version(), str(cold["score"])]


def test_a_corrupt_entry_is_recomputed_not_trusted(tmp_path):
    probe = Chain((2.0, 3.0, 4.0))
    expected = Oracle(None).chain(probe)
    Oracle(tmp_path).chain(probe)
    [entry] = entries(tmp_path)
    valid = json.loads(entry.read_text())
    wrong_value = {**valid, "value": {**valid["value"], "root": 999.0}, "key": "0" * 64}
    for corrupt in (
        "{not json",
        json.dumps(wrong_value),
        json.dumps({**valid, "value": None}),
        json.dumps({**valid, "schema_version": 0}),
        "",
    ):
        entry.write_text(corrupt)
        oracle = Oracle(tmp_path)
        assert oracle.chain(probe) == expected
        assert (oracle.computed, oracle.cached) == (1, 0)
        assert json.loads(entry.read_text()) == valid
    oracle = Oracle(tmp_path)
    oracle.chain(probe)
    assert (oracle.computed, oracle.cached) == (0, 1)


def test_two_graders_filling_one_cache_at_once(tmp_path):
    runs = [grade_in_subprocess(tmp_path) for _ in range(2)]
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs[0] == outputs[1] and "Score:" in outputs[0]
    files = list(tmp_path.rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]  # write_text_atomic's temporaries
    for entry in entries(tmp_path):
        data = json.loads(entry.read_text())
        assert data["key"] == entry.stem and isinstance(data["value"], dict)


def test_no_cache_neither_reads_nor_writes_the_cache(tmp_path):
    report = tmp_path / "report.json"
    cache = tmp_path / "cache"
    run = grade_in_subprocess(cache, "--no-cache", "--json", str(report))
    run.communicate()
    assert run.returncode == 0
    assert not cache.exists()
    assert json.loads(report.read_text())["environment"]["torch"] is not None
