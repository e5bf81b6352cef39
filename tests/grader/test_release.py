"""grader/release.py: the student release, installed with pip into a fresh venv with no torch,
and the Gradescope zip, unpacked, set up and run exactly as Gradescope does it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
from test_export import validate_gradescope  # the Gradescope specification, as one check

from grader import release
from grader.mutants import MUTANTS
from grader.pipeline import SECTION_IDS
from grader.report import schema
from grader.stubs import build_notebook

KIT = Path(__file__).resolve().parents[2]
SOLUTIONS = KIT / "solutions"
TASKS = [f"1.{i}" for i in range(1, 12)] + [f"2.{i}" for i in range(1, 8)]
TASKS += ["3.1"] + [f"4.{i}" for i in range(1, 8)] + ["5.1", "5.2"]
INSTRUCTOR_COMMANDS = ["check", "stubs", "batch", "release", "gradescope-package", "expectations"]


def run(args: list[str], cwd: Path, env: dict | None = None, check: bool = True, timeout=600):
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def clean_env(**extra: str) -> dict:
    """The machine's environment without this test run's venv, caches or pytest settings."""
    venv = os.environ.get("VIRTUAL_ENV", str(KIT / ".venv"))
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(venv)
    )
    drop = ("SCRATCHGRAD_", "PYTEST_", "PYTHON", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    # Compiling every installed .py (torch has thousands) is most of an install's time.
    return env | {"PATH": path, "PIP_NO_COMPILE": "1"} | extra


def solution_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in SOLUTIONS.glob("*.py")}


def notebook(solutions: bool) -> bytes:
    return nbformat.writes(build_notebook(SOLUTIONS, solutions=solutions)).encode()


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)


# find_submission: wherever the student's files sit under /autograder/submission.

STUBS = {
    name: (KIT / "exercises" / name).read_bytes() for name in ("engine.py", "nn.py", "train.py")
}
MACOS_JUNK = {"__MACOSX/my_hw/._engine.py": b"\0\5\26\7", "my_hw/.DS_Store": b"\0\0\0\1Bud1"}


@pytest.mark.parametrize(
    ("files", "found"),
    [
        (solution_files(), "."),
        ({f"my_hw/{n}": c for n, c in solution_files().items()} | MACOS_JUNK, "my_hw"),
        ({f"a/b/hw 3/{n}": c for n, c in solution_files().items()}, "a/b/hw 3"),
        ({f"exercises/{n}": c for n, c in solution_files().items()}, "exercises"),
        (
            {
                "work/notebooks/scratch_mlp.ipynb": b"{}",
                "work/notebooks/.ipynb_checkpoints/scratch_mlp-checkpoint.ipynb": b"{}",
                "work/data.csv": b"x,y\n",
            },
            "work/notebooks/scratch_mlp.ipynb",
        ),
        (
            {f"exercises/{n}": c for n, c in STUBS.items()} | {"exercises/mine.ipynb": b"{}"},
            "exercises/mine.ipynb",
        ),
        ({"deep/down/everything.py": b"class Value: ..."}, "deep/down/everything.py"),
    ],
    ids=["top", "folder+macos", "nested", "exercises", "notebook", "beside-stubs", "one-py"],
)
def test_find_submission_finds_it_wherever_it_sits(tmp_path: Path, files: dict, found: str) -> None:
    write_tree(tmp_path, files)
    assert release.find_submission(tmp_path) == tmp_path / found


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({}, "the upload holds nothing"),
        ({"README.txt": b"hi", "__MACOSX/._README.txt": b""}, "the upload holds README.txt."),
        ({"a/engine.py": b"", "b/engine.py": b""}, "several folders with an engine.py (a, b)"),
        ({"x.ipynb": b"{}", "y.ipynb": b"{}"}, "several notebooks (x.ipynb, y.ipynb)"),
        ({"\x1b[2Jevil.txt": b""}, "the upload holds \\x1b[2Jevil.txt."),
    ],
    ids=["empty", "no-code", "two-folders", "two-notebooks", "escape-in-name"],
)
def test_find_submission_says_what_was_expected(tmp_path: Path, files: dict, says: str) -> None:
    write_tree(tmp_path, files)
    with pytest.raises(release.NoSubmission) as missing:
        release.find_submission(tmp_path)
    assert says in str(missing.value)
    assert "Upload engine.py, nn.py and train.py" in str(missing.value)


# The Gradescope zip, as Gradescope's documentation lays it out
# (gradescope-autograders.readthedocs.io/en/latest/specs/, and the Dockerfile of its manual
# Docker configuration, which does what a zip upload does): the zip's contents go to
# /autograder/source; run_autograder is copied to /autograder/run_autograder; setup.sh runs
# once; each submission is put in /autograder/submission and run_autograder runs from /autograder.


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    run([sys.executable, "-m", "grader", "gradescope-package", str(out)], KIT, clean_env())
    return out


def test_zip_has_setup_run_autograder_and_the_kit_at_its_root(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert {
        "setup.sh",
        "run_autograder",
        "pyproject.toml",
        "course.json",
        "grader/__init__.py",
        "grader/hidden/hidden_test_backward.py",
        "grader/expected_values.json",
        "solutions/engine.py",
    } <= names
    assert not [n for n in names if n.startswith("source/") or "__pycache__" in n]
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR


@pytest.fixture(scope="module")
def autograder(autograder_zip: Path) -> Path:
    """An /autograder tree built from the zip as Gradescope builds its image. Then torch is
    removed from it: grading must need only the expectations that setup.sh computed."""
    root = autograder_zip.parent / "autograder"
    with zipfile.ZipFile(autograder_zip) as archive:
        for info in archive.infolist():
            archive.extract(info, root / "source")
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    # This machine reaches no package index but its own, so torch comes from pip's own
    # configuration here (setup.sh defaults to PyTorch's CPU index).
    pip_args = os.environ.get("SCRATCHGRAD_TORCH_PIP_ARGS", "")
    env = clean_env(AUTOGRADER_ROOT=str(root), SCRATCHGRAD_TORCH_PIP_ARGS=pip_args)
    run(["bash", str(root / "source" / "setup.sh")], root, env)
    run([str(root / "venv" / "bin" / "python"), "-m", "pip", "uninstall", "-y", "torch"], root)
    return root


def autograde(root: Path, files: dict[str, bytes]) -> tuple[dict, dict | None]:
    """One submission through run_autograder: Gradescope's results.json, and our report."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / "submission").mkdir()
    write_tree(root / "submission", files)
    run([str(root / "run_autograder")], root, clean_env(AUTOGRADER_ROOT=str(root)))
    results = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(results)
    report_file = root / "results" / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    if report is not None:
        jsonschema.validate(report, schema())
    return results, report


@pytest.mark.slow
@pytest.mark.torch
def test_setup_computes_every_expectation_and_removes_the_solutions(autograder: Path) -> None:
    expectations = json.loads((autograder / "expectations" / "expectations.json").read_text())
    assert len(expectations["expectations"]) > 100
    assert not (autograder / "source" / "solutions").exists()


@pytest.mark.slow
@pytest.mark.torch
def test_a_correct_package_uploaded_in_a_folder_gets_every_point(autograder: Path) -> None:
    files = {f"my_hw/{n}": c for n, c in solution_files().items()} | MACOS_JUNK
    results, report = autograde(autograder, files)
    assert report is not None and report["errors"] == [] and report["environment"]["torch"] is None
    assert results["score"] == report["score"] == report["max_score"] == 112
    assert all(test["status"] == "passed" for test in results["tests"])
    hidden = [t for t in results["tests"] if t["visibility"] == "after_published"]
    assert hidden and "hidden tests worth 12 points are graded too" in results["output"]


@pytest.mark.slow
@pytest.mark.torch
def test_a_notebook_below_the_top_gets_every_point(autograder: Path) -> None:
    files = {"hw/nb/scratch_mlp.ipynb": notebook(solutions=True)}
    files["hw/.ipynb_checkpoints/scratch_mlp-checkpoint.ipynb"] = notebook(solutions=False)
    results, report = autograde(autograder, files)
    assert report is not None and report["submission"]["kind"] == "notebook"
    assert results["score"] == 112


@pytest.mark.slow
@pytest.mark.torch
def test_a_submission_with_a_bug_loses_points_and_is_told_what_to_fix(
    autograder: Path, tmp_path: Path
) -> None:
    mutant = next(m for m in MUTANTS if m.name == "tanh_backward_uses_input")
    buggy = mutant.apply(SOLUTIONS, tmp_path / "buggy")
    results, report = autograde(autograder, {p.name: p.read_bytes() for p in buggy.glob("*.py")})
    assert report is not None and results["score"] == report["score"] < report["max_score"]
    first = results["tests"][0]
    assert first["number"] == "0.1" and first["name"].startswith("What to fix 1: Task 2.4")


@pytest.mark.slow
@pytest.mark.torch
def test_an_upload_without_code_gets_results_that_say_what_was_expected(autograder: Path) -> None:
    results, report = autograde(autograder, {"notes/README.txt": b"see attached"})
    assert report is None and results["score"] == 0 and results["tests"] == []
    assert "notes/README.txt" in results["output"]
    assert "Upload engine.py, nn.py and train.py" in results["output"]


# The student release: pip-installed into a fresh venv in which there is no torch.


@pytest.fixture(scope="module")
def student_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not release.EXPECTATIONS.is_file():
        pytest.skip(
            f"{release.EXPECTATIONS} is missing: write it with python -m grader expectations"
        )
    root = tmp_path_factory.mktemp("release")
    run([sys.executable, "-m", "grader", "release", str(root / "student")], KIT, clean_env())
    run([sys.executable, "-m", "venv", str(root / "venv")], root, clean_env())
    run(
        [
            str(root / "venv" / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            str(root / "student"),
        ],
        root,
        clean_env(),
    )
    return root


def student_grader(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m grader` of the installed release, from a folder of the student's, with a
    cache of its own (empty: the shipped expectations must be enough)."""
    env = clean_env(SCRATCHGRAD_CACHE=str(root / "cache"))
    python = str(root / "venv" / "bin" / "python")
    return run([python, "-I", "-m", "grader", *args], root / "student", env, check=check)


def grade_with_release(root: Path, path: Path) -> tuple[str, dict]:
    report = root / f"{path.name}.json"
    stdout = student_grader(root, str(path), "--json", str(report)).stdout
    return stdout, json.loads(report.read_text())


def test_release_ships_no_solutions_hidden_suites_course_file_or_instructor_commands(
    student_release: Path,
) -> None:
    student = student_release / "student"
    shipped = {p.relative_to(student).as_posix() for p in student.rglob("*") if p.is_file()}
    assert {
        "README.md",
        "pyproject.toml",
        "docs/api.md",
        "exercises/engine.py",
        "exercises/scratch_mlp.ipynb",
        "grader/suites/test_backward.py",
        "grader/expected_values.json",
        "grader/hidden_points.json",
    } <= shipped
    leaked = [p for p in shipped if p.startswith(("solutions/", "grader/hidden/", "grader/batch/"))]
    leaked += [p for p in shipped if Path(p).name in release.INSTRUCTOR_ONLY or p == "course.json"]
    assert leaked == []
    assert json.loads((student / "grader" / "hidden_points.json").read_text())["points"] == 12
    pyproject = (student / "pyproject.toml").read_text()
    assert "torch" not in pyproject and "solutions" not in pyproject and "hidden" not in pyproject


def test_student_readme_lists_every_section_and_says_where_hidden_tests_run(
    student_release: Path,
) -> None:
    readme = (student_release / "student" / "README.md").read_text()
    rows = [line.split("|")[1].strip() for line in readme.splitlines() if line.startswith("| ")]
    assert rows[0] == "section" and rows[2:] == list(SECTION_IDS)
    assert "Hidden tests worth 12 more points run in the course's autograder" in readme
    assert "no PyTorch" in readme


def test_release_installs_without_torch_and_every_module_imports(student_release: Path) -> None:
    python = str(student_release / "venv" / "bin" / "python")
    code = (
        "import importlib, importlib.util, pkgutil, grader\n"
        "assert importlib.util.find_spec('torch') is None, 'torch is installed'\n"
        "for m in pkgutil.walk_packages(grader.__path__, 'grader.'):\n"
        "    if m.name != 'grader.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "print(grader.__file__)"
    )
    imported = run([python, "-I", "-c", code], student_release, clean_env()).stdout
    assert "site-packages" in imported  # the installed copy, not the kit's


def test_installed_release_grades_its_stubs_to_zero_listing_every_task(
    student_release: Path,
) -> None:
    stdout, report = grade_with_release(student_release, student_release / "student" / "exercises")
    assert report["score"] == 0 and report["max_score"] == 100 and report["errors"] == []
    feedback = " ".join(t["feedback"] for s in report["sections"] for t in s["tests"])
    assert [t for t in TASKS if f"Task {t}" not in feedback] == []
    assert "Hidden tests worth 12 more points run only in the course's autograder." in stdout


def test_installed_release_gives_a_correct_submission_every_public_point(
    student_release: Path,
) -> None:
    _, report = grade_with_release(student_release, SOLUTIONS)
    jsonschema.validate(report, schema())
    assert report["score"] == report["max_score"] == 100 and report["errors"] == []
    assert report["hidden_points_held_back"] == 12 and report["environment"]["torch"] is None
    assert all(t["visibility"] == "visible" for s in report["sections"] for t in s["tests"])


@pytest.mark.parametrize("command", INSTRUCTOR_COMMANDS)
def test_instructor_command_in_a_release_says_so(student_release: Path, command: str) -> None:
    result = student_grader(student_release, command, check=False)
    assert result.returncode == 2
    assert "instructor command" in result.stderr
