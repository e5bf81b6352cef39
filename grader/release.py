"""Instructor packaging: the student release, and the Gradescope autograder zip.

`release OUT` ships what students need (exercises, the grader with its public suites, docs)
and nothing they must not see (solutions, hidden suites, the course's secret seed).
`gradescope-package OUT.zip` ships the full grader, hidden suites and seed to Gradescope.
"""

from __future__ import annotations

import argparse
import json
import shutil
import stat
import sys
import zipfile
from pathlib import Path

from grader.report import write_text_atomic

KIT = Path(__file__).resolve().parent.parent
GRADER = KIT / "grader"
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
INSTRUCTOR_ONLY = ("hidden", "release.py", "selfcheck.py", "mutants.py")

STUDENT_README = """\
# Build a neural network from scratch

You will build a scalar autograd engine (`Value`, with `+ - * / **`, `tanh`, `exp`, `relu`,
`log` and `backward()`), then `Neuron`, `Layer`, `MLP`, a mean-squared-error loss and a
training loop. `python -m grader` checks every piece against PyTorch and tells you what to fix.

## Set up (once)

```bash
python -m pip install -e .
```

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

| section | points | what |
| --- | ---: | --- |
| forward | 20 | the value of each op, with Values and with plain numbers on either side |
| backward | 25 | each op's derivative (its backward rule) |
| backprop | 25 | `backward()` through whole graphs: reused nodes, order, accumulation |
| nn | 15 | `Neuron`, `Layer`, `MLP` and `zero_grad()` with weights copied into PyTorch |
| training | 15 | `mse_loss` and `train()` against a PyTorch training loop |
| stretch | +10 | extra credit: graphs of 100,000 ops |

{held_back}Your code runs in a separate, restricted process with the standard library only
(importing torch or numpy there is refused: the point is to build it yourself).
"""


def release(out: Path) -> list[Path]:
    """Write the student distribution into the new folder `out`; return what was written."""
    if out.exists() and any(out.iterdir()):
        raise SystemExit(
            f"error: {out} is not empty. Pass a new folder: python -m grader release dist/student"
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
    note = (
        f"The course's autograder also runs hidden tests worth {held_back:g} more points "
        "(different inputs, same rules).\n\n"
        if held_back
        else ""
    )
    write_text_atomic(out / "README.md", STUDENT_README.replace("{held_back}", note))
    pyproject = (KIT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = pyproject.replace('"hidden/*.py"', "").replace(
        'include = ["grader*", "solutions*", "exercises*"]', 'include = ["grader*", "exercises*"]'
    )
    write_text_atomic(out / "pyproject.toml", pyproject)
    return sorted(p for p in out.rglob("*") if p.is_file())


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


SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once to build the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-venv python3-pip
python3 -m venv /autograder/venv
# The CPU wheel of torch: PyPI's default Linux wheel pulls several GB of CUDA.
/autograder/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu "torch>=2.1,<2.14"
/autograder/venv/bin/pip install /autograder/source
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission; it must always leave results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
cd "$ROOT/source"
SUBMISSION="$("$PYTHON" -c 'import sys; from grader.release import find_submission; \
print(find_submission(sys.argv[1]))' "$ROOT/submission")"
"$PYTHON" -m grader "$SUBMISSION" --hidden --course "$ROOT/source/course.json" \\
    --json "$ROOT/results/report.json" --gradescope "$ROOT/results/results.json"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    echo '{"score": 0, "output": "The autograder could not grade this submission; please \
contact your instructor.", "tests": []}' > "$ROOT/results/results.json"
fi
exit $status
"""


def gradescope_package(out: Path) -> Path:
    """The autograder zip: setup.sh, run_autograder, and source/ (grader with hidden suites)."""
    course = KIT / "course.json"
    if not course.is_file():
        raise SystemExit(
            "error: no course.json beside the grader: the hidden tests need its "
            'secret_seed. Create it: {"secret_seed": <a number only you know>}'
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            archive.writestr(info, text)
        for file in _files(GRADER):
            archive.write(file, f"source/{file.relative_to(KIT).as_posix()}")
        for name in ("pyproject.toml", "README.md", "course.json"):
            archive.write(KIT / name, f"source/{name}")
        for file in _files(KIT / "exercises"):  # the package build expects it
            archive.write(file, f"source/{file.relative_to(KIT).as_posix()}")
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def find_submission(folder: str | Path) -> Path:
    """What to grade in Gradescope's submission folder: a package, notebook or .py file."""
    folder = Path(folder)
    for candidate in (folder / "exercises", folder):
        if (candidate / "engine.py").is_file() or (candidate / "__init__.py").is_file():
            return candidate
    for pattern in ("*.ipynb", "*.py"):
        found = sorted(folder.rglob(pattern))
        if len(found) == 1:
            return found[0]
    return folder


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader release", description="Write the student distribution into OUT."
    )
    parser.add_argument("out", type=Path)
    out = parser.parse_args(argv).out
    written = release(out)
    print(
        f"Wrote the student release to {out} ({len(written)} files): exercises, the grader "
        "with its public suites, docs/api.md, README.md, pyproject.toml. No solutions, "
        "no hidden suites, no course.json."
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
        f"Wrote {out}: upload it as the assignment's autograder (Ubuntu base image).",
        file=sys.stdout,
    )
    return 0
