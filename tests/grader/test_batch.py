"""Batch grading: a folder of mixed, broken and hostile submissions, resumed, and on Dask."""

from __future__ import annotations

import csv
import json
import shutil
import socket
import zipfile
from inspect import ismodule
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader import batch, stubs
from grader.batch import gradebook
from grader.report import schema

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
SECTIONS = ["--section", "forward", "--section", "backward"]
GRADED = (
    "correct",
    "correct.py",
    "correct.ipynb",
    "tanh_backward_uses_input.py",
    "syntax_error.py",
    "zipped_folder.zip",
)
REFUSED = {
    "zip_slip.zip": "outside its folder",
    "zip_bomb.zip": "zip bomb",
    "notes.txt": "not a folder, .py, .ipynb or .zip",
    "file_and_folder_exercises.zip": "both a file and a folder",
    "bad_crc.zip": "damaged",
}


def build_module() -> str:
    return stubs.build_module(SOLUTIONS, solutions=True)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submissions")
    module = build_module()
    shutil.copytree(SOLUTIONS, root / "correct", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "correct.py").write_text(module)
    nbformat.write(stubs.build_notebook(SOLUTIONS, solutions=True), root / "correct.ipynb")
    buggy = module.replace("(1 - out.data**2) * out.grad", "(1 - self.data**2) * out.grad")
    assert buggy != module
    (root / "tanh_backward_uses_input.py").write_text(buggy)
    (root / "syntax_error.py").write_text(module + "\ndef broken(:\n")
    with zipfile.ZipFile(root / "zipped_folder.zip", "w") as zf:
        for file in sorted(SOLUTIONS.glob("*.py")):
            zf.write(file, f"mywork/{file.name}")
    with zipfile.ZipFile(root / "zip_slip.zip", "w") as zf:
        zf.writestr("engine.py", module)
        zf.writestr("../../escaped.py", "print('escaped')\n")
    with zipfile.ZipFile(root / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("engine.py", b"\0" * (30 * 2**20))
    with zipfile.ZipFile(root / "file_and_folder_exercises.zip", "w") as zf:
        zf.writestr("exercises", "a file\n")
        zf.writestr("exercises/__init__.py", module)
    with zipfile.ZipFile(root / "bad_crc.zip", "w") as zf:
        zf.writestr("engine.py", module)
    damaged = (root / "bad_crc.zip").read_bytes().replace(b"class Value", b"class Wrong", 1)
    (root / "bad_crc.zip").write_bytes(damaged)
    (root / "notes.txt").write_text("not a submission\n")
    return root


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = batch.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def graded(submissions, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("graded")
    assert batch.main([str(submissions), "--out", str(out), "--jobs", "2", *SECTIONS]) == 0
    return out


def rows(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == gradebook.COLUMNS
        return {row["id"]: row for row in reader}


def test_gradebook_has_a_row_per_entry_with_scores_and_status(graded):
    book = rows(graded)
    assert set(book) == set(GRADED) | set(REFUSED)
    for name in ("correct", "correct.py", "correct.ipynb", "zipped_folder.zip"):
        assert book[name]["status"] == "graded"
        assert (float(book[name]["score"]), float(book[name]["max_score"])) == (45, 45)
        assert float(book[name]["forward"]) == 20 and book[name]["nn"] == ""
    assert 0 < float(book["tanh_backward_uses_input.py"]["score"]) < 45
    assert book["syntax_error.py"]["status"] == "graded"
    assert float(book["syntax_error.py"]["score"]) == 0
    for name, why in REFUSED.items():
        assert book[name]["status"].startswith("error: refused: ") and why in book[name]["status"]
        assert book[name]["score"] == ""


def test_each_graded_entry_has_a_native_report_that_validates(graded):
    for name in GRADED:
        report = json.loads((graded / "reports" / f"{name}.json").read_text())
        jsonschema.validate(report, schema())
        assert report["submission"]["path"] == name
        assert float(rows(graded)[name]["score"]) == report["score"]
    assert not any((graded / "reports" / f"{name}.json").exists() for name in REFUSED)
    assert not (graded.parent / "escaped.py").exists()


def test_summary_names_what_the_class_struggled_with(graded):
    text = (graded / "summary.txt").read_text()
    assert f"Graded {len(GRADED)} of {len(GRADED) + len(REFUSED)} submissions" in text
    assert "Per section (mean): forward" in text
    assert "backward::test_tanh: failed by" in text


def without_timings(report: dict) -> dict:
    """A report without what differs between two gradings of the same work: when, how long,
    and the path it was given."""
    kept = {k: v for k, v in report.items() if k not in ("started_at", "duration_s")}
    kept["submission"] = {**report["submission"], "path": None}
    kept["sections"] = [
        {**s, "tests": [{k: v for k, v in t.items() if k != "duration_s"} for t in s["tests"]]}
        for s in report["sections"]
    ]
    return kept


@pytest.mark.parametrize("name", ["correct.ipynb", "tanh_backward_uses_input.py"])
def test_a_batch_report_is_the_standalone_report(graded, submissions, grader_pool, name):
    """Forked from the harness or run as `python -m grader PATH --json FILE`: the same report."""
    alone = grader_pool.run(submissions / name, *SECTIONS)
    assert alone.report is not None, alone.stderr
    in_batch = json.loads((graded / "reports" / f"{name}.json").read_text())
    assert without_timings(in_batch) == without_timings(alone.report)


def test_a_second_run_grades_nothing_and_keeps_the_gradebook(graded, submissions, capsys):
    before = {p.name: p.stat().st_mtime_ns for p in (graded / "reports").iterdir()}
    book = rows(graded)
    code, out, err = run([str(submissions), "--out", str(graded), *SECTIONS], capsys)
    assert code == 0
    zips = len(REFUSED) - 1  # refused once unpacked: up to date like a graded entry
    assert f"{len(GRADED) + zips} unchanged since the last run (skipped)" in out
    assert "1 not gradable, 0 to grade" in out  # notes.txt, refused again
    assert {p.name: p.stat().st_mtime_ns for p in (graded / "reports").iterdir()} == before
    assert rows(graded) == book


def test_a_changed_submission_is_graded_again(submissions, tmp_path, capsys):
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(submissions / "syntax_error.py", folder / "a.py")
    shutil.copy(submissions / "correct.py", folder / "b.py")
    out = tmp_path / "out"
    run([str(folder), "--out", str(out), "--section", "forward"], capsys)
    shutil.copy(submissions / "correct.py", folder / "a.py")
    code, text, err = run([str(folder), "--out", str(out), "--section", "forward"], capsys)
    assert "1 unchanged since the last run (skipped), 0 not gradable, 1 to grade" in text
    assert "a.py: graded" in err and "b.py" not in err  # plain progress lines off a terminal
    assert float(rows(out)["a.py"]["score"]) == 20


def test_an_interrupted_report_is_regraded(graded, submissions, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(graded, out)
    (out / "results" / "correct.py.json").unlink()
    code, text, err = run([str(submissions), "--out", str(out), *SECTIONS], capsys)
    assert "1 to grade" in text and "correct.py: graded" in err


def test_usage_errors_stop_before_grading(tmp_path, capsys):
    code, out, err = run([str(tmp_path / "nope"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "is not a folder" in err
    code, out, err = run([str(tmp_path), "--out", str(tmp_path / "o"), "--limit", "nap=1"], capsys)
    assert code == 2 and "Unknown limit 'nap'" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.torch
def test_hidden_tests_run_with_the_course_seed_as_standalone(tmp_path, grader_pool, capsys):
    """--hidden --course FILE: the hidden backward tests run, from the course's secret seed,
    exactly as `python -m grader --hidden --course FILE` runs them."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "correct.py").write_text(build_module())
    course = tmp_path / "course.json"
    course.write_text(json.dumps({"secret_seed": 123}))
    flags = ["--section", "backward", "--hidden", "--course", str(course)]
    code, _, err = run([str(tmp_path / "in"), "--out", str(tmp_path / "out"), *flags], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "reports" / "correct.py.json").read_text())
    assert any(t["visibility"] == "hidden" for s in report["sections"] for t in s["tests"])
    assert report["hidden_points_held_back"] == 0
    alone = grader_pool.run(tmp_path / "in" / "correct.py", *flags)
    assert without_timings(report) == without_timings(alone.report)


def test_the_same_batch_on_a_dask_cluster(submissions, graded, tmp_path, capsys):
    distributed = pytest.importorskip("dask.distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        code, text, err = run(
            [str(submissions), "--out", str(out), "--scheduler", address, *SECTIONS], capsys
        )
    assert code == 0, err
    strip = ("duration_s",)
    local, remote = rows(graded), rows(out)
    assert {k: {c: v for c, v in r.items() if c not in strip} for k, r in remote.items()} == {
        k: {c: v for c, v in r.items() if c not in strip} for k, r in local.items()
    }


def test_a_scheduler_without_workers_times_out_and_says_so(submissions, tmp_path, capsys):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as c:
        argv = [
            str(submissions),
            "--out",
            str(tmp_path / "o"),
            "--scheduler",
            c.scheduler_address,
            "--scheduler-timeout",
            "1",
            *SECTIONS,
        ]
        code, _, err = run(argv, capsys)
    assert code == 2 and "has no workers" in err and "dask worker" in err


def test_a_scheduler_that_does_not_answer_times_out_and_says_so(submissions, tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        argv = [
            str(submissions),
            "--out",
            str(tmp_path / "o"),
            "--scheduler",
            address,
            "--scheduler-timeout",
            "1",
            *SECTIONS,
        ]
        code, _, err = run(argv, capsys)
    assert code == 2 and "did not answer within 1 s" in err


def test_an_entry_named_like_a_stdlib_module_never_runs_in_the_grader(tmp_path, capsys):
    """A student's textwrap.py must not be importable by the harness or its children (which
    import textwrap through argparse)."""
    marker = tmp_path / "ran-in-the-grader"
    entries = tmp_path / "entries"
    entries.mkdir()
    (entries / "textwrap.py").write_text(
        f"import pathlib\ntry:\n    pathlib.Path({str(marker)!r}).write_text('yes')\n"
        "except OSError:\n    pass\n" + build_module()
    )
    out = tmp_path / "out"
    code, _, _ = run(
        [str(entries), "--out", str(out), "--jobs", "1", "--section", "forward"], capsys
    )
    assert code == 0 and not marker.exists()
    assert rows(out)["textwrap.py"]["status"] == "graded"


def test_the_package_exposes_main_alone():
    """`python -m grader batch` calls grader.batch.main; everything else is its modules'."""
    public = {n for n, v in vars(batch).items() if not n.startswith("_") and not ismodule(v)}
    assert public == set(batch.__all__) == {"main"}


@pytest.mark.torch
def test_hidden_tests_without_torch_read_expectations_written_beforehand(
    tmp_path, monkeypatch, capsys
):
    """Grading for the record where torch is not installed: `--expectations DIR`, written
    with torch once (as the Gradescope setup does); without it, a usage error up front."""
    from grader import expectations

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "correct.py").write_text(build_module())
    course = tmp_path / "course.json"
    course.write_text(json.dumps({"secret_seed": 123}))
    assert (
        expectations.main(["--hidden", "--course", str(course), "--out", str(tmp_path / "x")]) == 0
    )
    capsys.readouterr()
    monkeypatch.setattr("grader.pipeline.installed_torch_version", lambda: None)
    flags = ["--section", "backward", "--hidden", "--course", str(course)]
    code, _, err = run([str(tmp_path / "in"), "--out", str(tmp_path / "no"), *flags], capsys)
    assert code == 2 and "--hidden needs the hidden tests' expected values" in err
    assert not (tmp_path / "no").exists()
    flags += ["--expectations", str(tmp_path / "x")]
    code, _, err = run([str(tmp_path / "in"), "--out", str(tmp_path / "out"), *flags], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "reports" / "correct.py.json").read_text())
    assert report["errors"] == [] and report["hidden_points_held_back"] == 0
    assert report["score"] == report["max_score"] and report["max_score"] > 25
