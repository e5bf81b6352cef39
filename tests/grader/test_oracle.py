"""The oracle's on-disk cache: same answers as torch, no torch when warm, safe when shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.oracle import (
    EXPECTATIONS_FILE,
    Oracle,
    TorchMissing,
    expectation_key,
    write_expectations,
)
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
def reports(tmp_path_factory) -> tuple[Path, dict, dict, dict]:
    """The same grading from the shipped expectations, from a cache torch filled, and from
    torch alone: (that cache, shipped report, cache-filling report, torch report)."""
    cache = tmp_path_factory.mktemp("oracle")
    shipped = grade(SOLUTIONS, Options(sections=SECTIONS))
    filling = grade(
        SOLUTIONS,
        Options(sections=SECTIONS),
        oracles=(Oracle(cache, shipped=False), Oracle(None, shipped=False)),
    )
    torch_only = grade(SOLUTIONS, Options(sections=SECTIONS, torch_only=True))
    return cache, comparable(shipped), comparable(filling), comparable(torch_only)


@pytest.mark.torch
def test_shipped_cached_and_torch_expectations_give_the_same_report(reports):
    cache, shipped, filling, torch_only = reports
    assert entries(cache)
    hot = grade(
        SOLUTIONS,
        Options(sections=SECTIONS),
        oracles=(Oracle(cache, shipped=False), Oracle(None, shipped=False)),
    )
    assert comparable(hot) == shipped == filling == torch_only


@pytest.mark.torch
def test_shipped_expectations_spare_the_torch_import(reports, tmp_path):
    _, shipped, _, _ = reports
    code = (
        "import sys; from pathlib import Path; from grader.pipeline import Options, grade; "
        f"r = grade(Path({str(SOLUTIONS)!r}), Options(sections={SECTIONS!r}, "
        f"cache_dir=Path({str(tmp_path)!r}))); "
        "print('torch' in sys.modules, r.score, r.max_score)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", str(shipped["score"]), str(shipped["max_score"])]
    assert entries(tmp_path) == []  # nothing needed computing, so nothing was cached


def test_expectations_given_with_a_folder_are_read_first(tmp_path):
    probe = Chain((2.0, 3.0, 4.0))
    key = expectation_key(probe.request())
    write_expectations(
        tmp_path / EXPECTATIONS_FILE,
        {key: {"error": None, "root": 42.0, "grads": [7.0, 7.0, 7.0]}},
        None,
    )
    oracle = Oracle(None, expectations=(tmp_path,), shipped=False)
    assert oracle.chain(probe).root == 42.0
    assert (oracle.computed, oracle.cached) == (0, 0)


def test_without_torch_an_unknown_expectation_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("grader.oracle.installed_torch_version", lambda: None)
    with pytest.raises(TorchMissing, match="torch is not installed"):
        Oracle(None, shipped=False).chain(Chain((1.0, 2.0)))


@pytest.mark.torch
def test_a_corrupt_entry_is_recomputed_not_trusted(tmp_path):
    probe = Chain((2.0, 3.0, 4.0))
    expected = Oracle(None, shipped=False).chain(probe)
    Oracle(tmp_path, shipped=False).chain(probe)
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
        oracle = Oracle(tmp_path, shipped=False)
        assert oracle.chain(probe) == expected
        assert (oracle.computed, oracle.cached) == (1, 0)
        assert json.loads(entry.read_text()) == valid
    oracle = Oracle(tmp_path, shipped=False)
    oracle.chain(probe)
    assert (oracle.computed, oracle.cached) == (0, 1)


FILL_CACHE = """
import sys
from pathlib import Path
from grader.oracle import Oracle
from grader.probes import Chain
oracle = Oracle(Path(sys.argv[1]), shipped=False)
for n in range(2, 40):
    print(oracle.chain(Chain(tuple(float(i) for i in range(n)))).root)
"""


@pytest.mark.torch
def test_two_graders_filling_one_cache_at_once(tmp_path):
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", FILL_CACHE, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs[0] == outputs[1] and len(outputs[0].split()) == 38
    files = list(tmp_path.rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]  # write_text_atomic's temporaries
    assert len(entries(tmp_path)) == 38
    for entry in entries(tmp_path):
        data = json.loads(entry.read_text())
        assert data["key"] == entry.stem and isinstance(data["value"], dict)


@pytest.mark.torch
def test_no_cache_neither_reads_nor_writes_the_cache(tmp_path):
    report = tmp_path / "report.json"
    cache = tmp_path / "cache"
    run = grade_in_subprocess(cache, "--no-cache", "--json", str(report))
    run.communicate()
    assert run.returncode == 0
    assert not cache.exists()
    assert json.loads(report.read_text())["environment"]["torch"] is not None
