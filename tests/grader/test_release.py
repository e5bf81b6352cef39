"""grader/release.py: the student release and the Gradescope autograder package."""

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.report import schema

KIT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env():
    return dict(os.environ)  # with the session's oracle cache (tests/conftest.py)


def run(args, env, cwd, check=True):
    result = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def installed_release(tmp_path_factory, env):
    """`release OUT`, then the release installed into a fresh folder with pip."""
    root = tmp_path_factory.mktemp("release")
    run(["-m", "grader", "release", str(root / "student")], env, KIT)
    run(
        [
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(root / "site"),
            str(root / "student"),
        ],
        env,
        root,
    )
    return root


# Runs `python -m grader` importing only the installed release: the kit's own editable install
# (in this venv) would otherwise supply modules the release leaves out.
RELEASE_ONLY = (
    "import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path "
    "if 'editable' not in repr(f)]; runpy.run_module('grader', run_name='__main__')"
)


def release_grader(root, args, env, check=True):
    return run(
        ["-c", RELEASE_ONLY, *args], {**env, "PYTHONPATH": str(root / "site")}, root, check=check
    )


def grade_with_release(root, path, env):
    """Grade from a folder outside the kit, with the installed release."""
    report = root / f"{Path(path).name}.json"
    result = release_grader(root, [str(path), "--json", str(report)], env)
    return result.stdout, json.loads(report.read_text())


def test_release_ships_no_solutions_hidden_suites_or_course_file(installed_release):
    shipped = {
        p.relative_to(installed_release / "student").as_posix()
        for p in (installed_release / "student").rglob("*")
        if p.is_file()
    }
    assert {
        "README.md",
        "pyproject.toml",
        "docs/api.md",
        "exercises/engine.py",
        "exercises/scratch_mlp.ipynb",
        "grader/suites/test_backward.py",
    } <= shipped
    assert not [
        p
        for p in shipped
        if p.startswith(("solutions/", "grader/hidden/"))
        or p in {"course.json", "grader/mutants.py", "grader/selfcheck.py"}
    ]
    installed = {
        p.relative_to(installed_release / "site").parts[0]
        for p in (installed_release / "site").iterdir()
    }
    assert "solutions" not in installed
    held_back = json.loads((installed_release / "student/grader/hidden_points.json").read_text())
    assert held_back["points"] > 0


def test_installed_release_grades_its_stubs_to_zero_listing_every_task(installed_release, env):
    stdout, report = grade_with_release(
        installed_release, installed_release / "student" / "exercises", env
    )
    assert report["score"] == 0 and report["max_score"] == 100
    feedback = " ".join(t["feedback"] for s in report["sections"] for t in s["tests"])
    tasks = [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "1.6",
        "1.7",
        "1.8",
        "1.9",
        "1.10",
        "1.11",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "2.6",
        "2.7",
        "3.1",
        "4.1",
        "4.2",
        "4.3",
        "4.4",
        "4.5",
        "4.6",
        "4.7",
        "5.1",
        "5.2",
    ]
    assert [t for t in tasks if f"Task {t}" not in feedback] == []
    assert "Hidden tests worth" in stdout


def test_installed_release_gives_a_correct_submission_full_public_points(installed_release, env):
    _, report = grade_with_release(installed_release, KIT / "solutions", env)
    jsonschema.validate(report, schema())
    assert report["score"] == report["max_score"] == 100
    assert report["hidden_points_held_back"] > 0
    assert all(t["visibility"] == "visible" for s in report["sections"] for t in s["tests"])


def test_instructor_command_in_a_release_says_so(installed_release, env):
    result = release_grader(installed_release, ["check"], env, check=False)
    assert result.returncode == 2
    assert "instructor command" in result.stderr


@pytest.fixture(scope="module")
def autograder(tmp_path_factory, env):
    """The Gradescope zip unpacked into a fake /autograder tree."""
    root = tmp_path_factory.mktemp("autograder")
    run(["-m", "grader", "gradescope-package", str(root / "autograder.zip")], env, KIT)
    with zipfile.ZipFile(root / "autograder.zip") as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        archive.extractall(root / "autograder")
    assert {
        "setup.sh",
        "run_autograder",
        "source/course.json",
        "source/grader/hidden/hidden_test_backward.py",
    } <= set(names)
    assert not [n for n in names if n.startswith("source/solutions")]
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    return root / "autograder"


@pytest.mark.parametrize("submitted", ["notebook"])
def test_run_autograder_writes_gradescope_results(autograder, env, submitted, tmp_path):
    from grader.stubs import build_notebook

    submission = autograder / "submission"
    results = autograder / "results"
    for folder in (submission, results):
        if folder.exists():
            subprocess.run(["rm", "-rf", str(folder)], check=True)
    submission.mkdir()
    if submitted == "notebook":
        import nbformat

        nbformat.write(
            build_notebook(KIT / "solutions", solutions=True), submission / "scratch_mlp.ipynb"
        )
    else:
        for name in ("__init__.py", "engine.py", "nn.py", "train.py"):
            (submission / name).write_bytes((KIT / "solutions" / name).read_bytes())
    env = {**env, "AUTOGRADER_ROOT": str(autograder), "AUTOGRADER_PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", str(autograder / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    gradescope = json.loads((results / "results.json").read_text())
    native = json.loads((results / "report.json").read_text())
    jsonschema.validate(native, schema())
    hidden = [t for t in gradescope["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(t["status"] == "passed" for t in gradescope["tests"])
    assert native["score"] == native["max_score"] > 100  # the hidden tests ran
    assert gradescope["score"] == native["score"] + 10  # plus the extra credit
