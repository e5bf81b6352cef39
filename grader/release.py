"""Instructor packaging: the student release, and the Gradescope autograder zip.

`release OUT` ships what students need to grade their work without torch (exercises, the grader
with its public suites and their expected values, docs) and nothing they must not see (solutions,
hidden suites, the course's secret seed, instructor commands). `gradescope-package OUT.zip`
ships the whole kit, laid out as Gradescope unpacks it: its setup computes every expected value
once, so that no grading imports torch. On Gradescope `run_autograder` calls `autograde`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import sys
import zipfile
from pathlib import Path

from grader.pipeline import SECTION_IDS, course_file_seed
from grader.protocol import printable
from grader.report import write_text_atomic
from grader.submission import UsageError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest, a dependency, brings tomli there
    import tomli as tomllib  # type: ignore[no-redef]

KIT = Path(__file__).resolve().parent.parent
GRADER = KIT / "grader"
EXPECTATIONS = GRADER / "expected_values.json"
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "*.egg-info")
INSTRUCTOR_ONLY = (
    "hidden",
    "batch",
    "expectations.py",
    "mutants.py",
    "release.py",
    "selfcheck.py",
    "stubs.py",
)
"""What `release` leaves out of grader/: the hidden suites and the instructor commands."""
SECTION_CHECKS = {
    "forward": "the value of each op, with Values and with plain numbers on either side",
    "backward": "each op's derivative (its backward rule), also under an upstream gradient",
    "backprop": "`backward()` through whole graphs: reused nodes, order, 100,000-op chains",
    "nn": "`Neuron`, `Layer`, `MLP` and `zero_grad()`, with weights copied into PyTorch",
    "training": "`mse_loss` and `train()`, against a PyTorch training loop",
}
"""What each section checks, for the student README (a test keeps it in step with SECTION_IDS)."""

STUDENT_README = """\
# Build a neural network from scratch

You will build a scalar autograd engine (`Value`, with `+ - * / **`, `tanh`, `exp`, `relu`,
`log` and `backward()`), then `Neuron`, `Layer`, `MLP`, a mean-squared-error loss and a
training loop. `python -m grader` checks every piece against the values PyTorch gives and
tells you what to fix first.

## Set up (once)

```bash
python -m pip install -e .
```

This installs the grader only: no PyTorch. The values PyTorch gives for every public test
ship with the grader.

## Work

- Fill in `exercises/engine.py`, `exercises/nn.py`, `exercises/train.py`, or work in the
  notebook `exercises/scratch_mlp.ipynb`. Each stub raises `NotImplementedError("Task N.M: ...")`
  until you replace it; `docs/api.md` lists every task and what the grader expects.
- Grade your work as often as you like:

  ```bash
  python -m grader                                   # grades ./exercises
  python -m grader exercises/scratch_mlp.ipynb       # or your notebook
  python -m grader --section backward -v             # one section, every failing case
  ```

## What each section checks

| section | what |
| --- | --- |
{sections}

{hidden}Your code runs in a separate, restricted process with the standard library only
(importing torch or numpy there is refused: the point is to build it yourself).
"""


def release(out: Path) -> list[Path]:
    """Write the student distribution into the new folder `out`; return what was written."""
    if out.exists() and any(out.iterdir()):
        raise SystemExit(
            f"error: {out} is not empty. Pass a new folder: python -m grader release dist/student"
        )
    if not EXPECTATIONS.is_file():
        raise SystemExit(
            f"error: {EXPECTATIONS} is missing, so students would need torch to grade. "
            "Write it first: python -m grader expectations"
        )
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(KIT / "exercises", out / "exercises", ignore=SKIPPED)
    shutil.copytree(
        GRADER,
        out / "grader",
        ignore=shutil.ignore_patterns(*INSTRUCTOR_ONLY, "__pycache__", "*.pyc"),
    )
    (out / "docs").mkdir()
    shutil.copyfile(KIT / "docs" / "api.md", out / "docs" / "api.md")
    held_back = hidden_points()
    write_text_atomic(
        out / "grader" / "hidden_points.json", json.dumps({"points": held_back}) + "\n"
    )
    write_text_atomic(out / "README.md", student_readme(held_back))
    write_text_atomic(out / "pyproject.toml", student_pyproject())
    return sorted(p for p in out.rglob("*") if p.is_file())


def student_readme(held_back: float) -> str:
    rows = "\n".join(f"| {section} | {SECTION_CHECKS[section]} |" for section in SECTION_IDS)
    hidden = (
        f"Hidden tests worth {held_back:g} more points run in the course's autograder, not "
        "here: the same rules at inputs you have not seen.\n\n"
        if held_back
        else ""
    )
    return STUDENT_README.replace("{sections}", rows).replace("{hidden}", hidden)


def student_pyproject() -> str:
    """The kit's pyproject.toml without torch, extras, solutions or hidden suites."""
    kit = tomllib.loads((KIT / "pyproject.toml").read_text(encoding="utf-8"))
    project = kit["project"]
    dependencies = [d for d in project.get("dependencies", []) if _requirement(d) != "torch"]
    fields = ["name", "version", "description", "requires-python", "license"]
    lines = ["[build-system]"]
    lines += [f"{key} = {_toml(value)}" for key, value in kit["build-system"].items()]
    lines += ["", "[project]"]
    lines += [f"{key} = {_toml(project[key])}" for key in fields if key in project]
    lines += ['readme = "README.md"', f"dependencies = {_toml(dependencies)}"]
    lines += ["", "[tool.setuptools.packages.find]", 'include = ["grader*"]']
    data = kit["tool"]["setuptools"]["package-data"]["grader"]
    data = [p for p in data if not p.startswith("hidden/")]
    data += [] if "expectations/*.json" in data else ["expectations/*.json"]
    lines += ["", "[tool.setuptools.package-data]", f"grader = {_toml(data)}", ""]
    return "\n".join(lines)


def _requirement(text: str) -> str:
    """The normalised project name a requirement string is about."""
    name = re.match(r"\s*([A-Za-z0-9._-]+)", text)
    return re.sub(r"[-_.]+", "-", name[1]).lower() if name else ""


def _toml(value: object) -> str:
    """A string or list of strings in TOML: JSON's string syntax is TOML's basic string."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def hidden_points() -> float:
    """Points of the hidden suites, counted by collecting them (nothing is run)."""
    import pytest

    from grader.pipeline import HIDDEN_SUITES, isolated_pytest, pytest_args
    from grader.plugin import GradingPlugin

    files = sorted(HIDDEN_SUITES.glob("hidden_test_*.py"))
    if not files:
        return 0.0
    plugin = GradingPlugin(None, None, None, None, run_hidden=False)  # type: ignore[arg-type]
    with isolated_pytest():
        pytest.main([*pytest_args(files), "--collect-only"], plugins=[plugin])
    return round(plugin.held_back, 4)


# ---- Gradescope -----------------------------------------------------------------------------

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once to build the autograder image; the zip is unpacked into
# /autograder/source. Every expected value (public and hidden, with the course's secret seed)
# is computed here, once, so that no grading imports torch.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
# pip options for torch. By default the CPU build: PyPI's Linux wheel brings several GB of
# CUDA. Set SCRATCHGRAD_TORCH_PIP_ARGS (even to "") to install it from elsewhere.
: "${SCRATCHGRAD_TORCH_PIP_ARGS=--index-url https://download.pytorch.org/whl/cpu}"
if ! python3 -m venv "$ROOT/venv"; then  # Ubuntu's python3 makes venvs with python3-venv
    apt-get update
    apt-get install -y python3 python3-venv python3-pip
    python3 -m venv --clear "$ROOT/venv"
fi
PYTHON="$ROOT/venv/bin/python"
# torch runs once, just below: byte-compiling its thousands of modules would cost more than
# that run (--no-compile).
# shellcheck disable=SC2086  # the options are words
"$PYTHON" -m pip install --no-compile $SCRATCHGRAD_TORCH_PIP_ARGS {torch}
"$PYTHON" -m pip install -e "$SOURCE"
"$PYTHON" -m grader expectations --hidden --course "$SOURCE/course.json" --out "$ROOT/expectations"
# The reference solutions were needed for that only; student code runs in this image.
rm -rf "$SOURCE/solutions"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this as /autograder/run_autograder for each submission (in
# /autograder/submission); it must always leave /autograder/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
mkdir -p "$ROOT/results"
cd "$ROOT"
"$ROOT/venv/bin/python" -I -c \\
    'import sys; from grader.release import autograde; sys.exit(autograde(sys.argv[1]))' "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    message='"The autograder could not grade this submission: please tell your instructor."'
    printf '{"score": 0, "output": %s, "tests": []}\\n' "$message" > "$ROOT/results/results.json"
fi
exit $status
"""


def gradescope_package(out: Path) -> Path:
    """The autograder zip: setup.sh, run_autograder and the kit (grader with hidden suites,
    course.json, solutions for setup) at its root, where Gradescope expects them."""
    course = KIT / "course.json"
    if not course.is_file():
        raise SystemExit(
            "error: no course.json beside the grader: the hidden tests need its "
            'secret_seed. Create it: {"secret_seed": <a number only you know>}'
        )
    try:
        seed = course_file_seed(course)
    except UsageError as exc:
        raise SystemExit(f"error: {exc}") from None
    if abs(seed) < 2**40:
        print(
            f"warning: {course}'s secret_seed is a small number: it can be found again from the "
            "hidden inputs by trying every candidate. Use a long random one: "
            'python -c "import secrets; print(secrets.randbits(64))"',
            file=sys.stderr,
        )
    setup = SETUP_SH.replace("{torch}", _torch_requirement())
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", setup), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
        for name in ("pyproject.toml", "README.md", "course.json"):
            archive.write(KIT / name, name)
        for folder in ("grader", "solutions", "exercises"):  # the package build expects these
            for file in _files(KIT / folder):
                archive.write(file, file.relative_to(KIT).as_posix())
    return out


def _torch_requirement() -> str:
    """torch as the kit's pyproject pins it (in the `oracle` extra), quoted for the shell."""
    project = tomllib.loads((KIT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = project.get("dependencies", []) + project.get("optional-dependencies", {}).get(
        "oracle", []
    )
    found = next((r for r in listed if _requirement(r) == "torch"), "torch")
    return "'" + found.replace("'", "") + "'"


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not {"__pycache__", ".hypothesis"} & set(p.parts)
        and p.suffix != ".pyc"
        and not any(part.endswith(".egg-info") for part in p.parts)
    )


class NoSubmission(Exception):
    """Nothing gradable in the submission folder; the message says what was expected."""


EXPECTED = (
    "Upload engine.py, nn.py and train.py (or the folder that holds them, such as exercises/), "
    "or your notebook scratch_mlp.ipynb, or one .py file that defines everything."
)


def find_submission(folder: str | Path) -> Path:
    """What to grade under Gradescope's submission folder, wherever it sits: the shallowest
    folder with an engine.py, else the one notebook, else the one .py file. macOS and editor
    leftovers (__MACOSX/, ._*, .ipynb_checkpoints/, ...) and untouched stubs do not count."""
    folder = Path(folder)
    files = []
    try:
        for parent, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not _junk(d))
            files += [Path(parent) / n for n in sorted(names) if not _junk(n)]
    except RecursionError:  # os.walk recurses: folders nested about a thousand deep
        raise NoSubmission(f"The upload's folders are nested too deeply. {EXPECTED}") from None
    packages = sorted(
        {f.parent for f in files if f.name == "engine.py" and not _untouched_stubs(f.parent)},
        key=lambda p: (len(p.relative_to(folder).parts), p),
    )
    if packages:
        depth = len(packages[0].relative_to(folder).parts)
        shallowest = [p for p in packages if len(p.relative_to(folder).parts) == depth]
        return _one(shallowest, folder, "folders with an engine.py")
    for suffix, what in ((".ipynb", "notebooks"), (".py", ".py files")):
        found = [f for f in files if f.suffix == suffix and not _is_stub(f)]
        if found:
            named = [f for f in found if f.name == "scratch_mlp.ipynb"]
            return _one(named if len(named) == 1 else found, folder, what)
    seen = ", ".join(printable(f.relative_to(folder).as_posix(), 100) for f in files[:10])
    seen += f" and {len(files) - 10} more files" if len(files) > 10 else ""
    raise NoSubmission(f"No submission found: the upload holds {seen or 'nothing'}. {EXPECTED}")


def _junk(name: str) -> bool:
    return name.startswith(".") or name in ("__MACOSX", "__pycache__")


def _is_stub(file: Path) -> bool:
    """The file is one of the kit's own untouched stubs (submitted alongside real work)."""
    stub = KIT / "exercises" / file.name
    return stub.is_file() and stub.read_bytes() == file.read_bytes()


def _untouched_stubs(folder: Path) -> bool:
    return all(_is_stub(folder / name) for name in ("engine.py", "nn.py", "train.py"))


def _one(found: list[Path], folder: Path, what: str) -> Path:
    if len(found) == 1:
        return found[0]
    names = ", ".join(printable(p.relative_to(folder).as_posix(), 100) for p in found)
    raise NoSubmission(f"The upload holds several {what} ({names}): upload one. {EXPECTED}")


def autograde(root: str | Path) -> int:
    """Grade ROOT/submission with the hidden tests into ROOT/results (Gradescope's layout)."""
    root = Path(root)
    results = root / "results"
    try:
        found = find_submission(root / "submission")
    except NoSubmission as missing:
        no_submission = {"score": 0, "output": str(missing), "output_format": "text", "tests": []}
        write_text_atomic(results / "results.json", json.dumps(no_submission, indent=2) + "\n")
        return 0
    from grader import cli

    return cli.main(
        [
            str(found),
            "--hidden",
            "--course",
            str(root / "source" / "course.json"),
            "--expectations",
            str(root / "expectations"),
            "--json",
            str(results / "report.json"),
            "--gradescope",
            str(results / "results.json"),
            "-q",
        ]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader release", description="Write the student distribution into OUT."
    )
    parser.add_argument("out", type=Path)
    out = parser.parse_args(argv).out
    written = release(out)
    print(
        f"Wrote the student release to {out} ({len(written)} files): exercises, the grader "
        "with its public suites and their expected values, docs/api.md, README.md, "
        "pyproject.toml. No solutions, no hidden suites, no course.json, no torch needed."
    )
    return 0


def gradescope_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader gradescope-package",
        description="Write the Gradescope autograder zip.",
    )
    parser.add_argument("out", type=Path, help="e.g. autograder.zip")
    out = gradescope_package(parser.parse_args(argv).out)
    print(
        f"Wrote {out}: upload it as the assignment's autograder (Ubuntu 22.04 base image).",
        file=sys.stdout,
    )
    return 0
