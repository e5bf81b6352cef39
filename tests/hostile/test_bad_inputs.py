"""Broken submissions: each gets a clear message, a valid report and exit status 0, with points
for whatever works; a path that cannot be graded at all is a usage error (exit 2).

The broken files are made here rather than kept in submissions/: they are not valid Python (or
not text at all), which the repository's linters would reject.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import nbformat
import pytest
from grading_runs import (
    REFERENCE,
    REPO,
    SUBMISSIONS,
    Case,
    Gradings,
    reference_module,
    reference_notebook,
    writes,
)

from grader.pipeline import SECTION_IDS

TANH = "    def tanh(self) -> Value:\n"
SYNTAX_ERROR_LINE = reference_module().split(TANH)[0].count("\n") + 1
"""The line of `def tanh(...)`, whose colon the syntax-error submission drops."""
IMPORT_ERROR_LINE = reference_module().count("\n") + 2
MAGIC_CELLS = [
    "%matplotlib inline\n!pip install torch",
    "%%bash\nrm -rf ~",
    "files = !ls /\n%time total = sum(range(10))\nValue?",
    "get_ipython().system('id')",
]


def with_magics() -> str:
    notebook = nbformat.from_dict(reference_notebook())
    notebook.cells[1:1] = [nbformat.v4.new_code_cell(source) for source in MAGIC_CELLS]
    return nbformat.writes(notebook)


def engine_only() -> str:
    return (REPO / "solutions" / "engine.py").read_text(encoding="utf-8")


def wrong_signatures() -> str:
    attack = (SUBMISSIONS / "wrong_signatures.py").read_text(encoding="utf-8")
    return f"{reference_module()}\n\n\nATTACK = True\n{attack}"


def no_python_files(folder: Path) -> Path:
    package = folder / "no_python_files"
    package.mkdir()
    (package / "README.md").write_text("My MLP is in my other folder.\n", encoding="utf-8")
    (package / "data.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    return package


REFERENCE_NOTEBOOK = Case(
    "reference_notebook",
    writes(
        "reference_notebook.ipynb",
        lambda: nbformat.writes(nbformat.from_dict(reference_notebook())),
    ),
)


def bad(
    name: str, build: Callable[[Path], Path], *messages: str, baseline: Case = REFERENCE
) -> pytest.param:
    return pytest.param(Case(name, build, bound_s=30, baseline=baseline), messages, id=name)


BAD_INPUTS = [
    bad(
        "syntax_error",
        writes("syntax_error.py", lambda: reference_module().replace(TANH, TANH.replace(":", ""))),
        f"SyntaxError at syntax_error.py:{SYNTAX_ERROR_LINE}",
    ),
    bad(
        "import_error",
        writes("import_error.py", lambda: reference_module() + "\nimport scratchgrad_helpers\n"),
        f"ModuleNotFoundError at import_error.py:{IMPORT_ERROR_LINE}",
        "No module named 'scratchgrad_helpers'",
    ),
    bad(
        "missing_names",
        writes("missing_names.py", engine_only),
        "your submission defines no Module, Neuron, Layer, MLP, mse_loss, train",
    ),
    bad(
        "wrong_signatures",
        writes("wrong_signatures.py", wrong_signatures),
        "TypeError",
        "unexpected keyword argument 'activation'",
    ),
    bad(
        "empty",
        writes("empty.py", lambda: b""),
        "your submission defines no Value, Module, Neuron, Layer, MLP, mse_loss, train",
    ),
    bad(
        "binary_garbage",
        writes("binary_garbage.py", lambda: bytes(range(256)) * 16),
        "binary_garbage.py is not a text file (it holds NUL bytes",
    ),
    bad(
        "wrong_encoding",
        writes(
            "wrong_encoding.py",
            lambda: "# Grüße, café\n".encode("latin-1") + reference_module().encode(),
        ),
        "wrong_encoding.py line 1 is not valid UTF-8 text (byte 0xfc)",
    ),
    bad(
        "empty_notebook",
        writes("empty_notebook.ipynb", lambda: b""),
        "The notebook empty_notebook.ipynb could not be read",
    ),
    bad(
        "corrupted_notebook",
        writes("corrupted_notebook.ipynb", lambda: json.dumps(reference_notebook())[:5000]),
        "The notebook corrupted_notebook.ipynb could not be read",
    ),
    bad(
        "notebook_with_magics",
        writes("notebook_with_magics.ipynb", with_magics),
        "NameError",
        "get_ipython",
        baseline=REFERENCE_NOTEBOOK,
    ),
]
POINTS_FOR_WHAT_WORKS = {
    "missing_names": ("forward", "backward", "backprop"),
    "wrong_signatures": ("forward", "backward", "backprop"),
    "notebook_with_magics": SECTION_IDS,
}
"""Sections in which a broken submission keeps every point of its baseline."""


@pytest.mark.parametrize("case, messages", BAD_INPUTS)
def test_bad_input_gets_a_clear_message_and_a_valid_report(
    gradings: Gradings, schema: dict, case: Case, messages: tuple[str, ...]
) -> None:
    got = gradings[case]
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.report is not None
    jsonschema.validate(got.report, schema)
    assert [e for e in got.report["errors"] if e["kind"] == "grader"] == []
    for message in messages:
        assert message in got.messages(), got.messages()
    assert case.baseline is not None
    baseline = gradings[case.baseline]
    assert got.score <= baseline.score
    for section in POINTS_FOR_WHAT_WORKS.get(case.name, ()):
        assert got.section_score(section) == baseline.section_score(section), section
    assert got.survivors == ()
    assert got.duration_s < case.bound_s


@pytest.mark.parametrize(
    "path, sentence",
    [
        ("no/such/submission", "No submission at no/such/submission. Pass a path"),
        ("notes.txt", "notes.txt is not a folder, a .py file or a .ipynb notebook"),
        ("no_python_files", "The folder no_python_files holds no Python files. Pass the folder"),
    ],
)
def test_what_cannot_be_graded_is_a_usage_error(tmp_path: Path, path: str, sentence: str) -> None:
    (tmp_path / "notes.txt").write_text("my answers\n", encoding="utf-8")
    no_python_files(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "grader", path],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert sentence in done.stderr
    assert not (tmp_path / "grader-report.json").exists()
