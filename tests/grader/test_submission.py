"""grader/submission.py: what counts as a submission, and notebook cells made plain Python."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from grader import submission
from grader.submission import MAX_SOURCE_BYTES, UsageError, load, neutralise
from grader.worker_process import remove_tree

SHA256 = re.compile(r"[0-9a-f]{64}")


@pytest.mark.parametrize(
    "line",
    [
        "%matplotlib inline",
        "!pip install x",
        "files = !ls",
        "%time train(model, xs, ys)",
        "x?",
        "x.grad??",
        "?x",
    ],
)
def test_ipython_lines_become_pass(line: str) -> None:
    assert neutralise(f"a = 1\n{line}\nb = 2") == f"a = 1\npass  # IPython: {line}\nb = 2"


def test_an_indented_magic_keeps_its_indentation() -> None:
    source = "for step in range(3):\n    %time train(model)\n    print(step)"
    assert neutralise(source).splitlines()[1] == "    pass  # IPython: %time train(model)"
    compile(neutralise(source), "<cell>", "exec")


def test_a_timing_cell_magic_keeps_its_body() -> None:
    assert (
        neutralise("%%time\nloss = train(model)\nprint(loss)")
        == "pass  # IPython cell magic\nloss = train(model)\nprint(loss)"
    )


def test_a_shell_cell_magic_drops_its_body_but_keeps_line_numbers() -> None:
    assert (
        neutralise("%%bash\npip install torch\nls -l") == "pass  # IPython cell magic\npass\npass"
    )


@pytest.mark.parametrize(
    "source",
    [
        "y = x % 2",
        "label = '%d%%' % 50",
        "same = a != b",
        "print('what?')",
        "d = {'?': 1}  # why?",
    ],
)
def test_plain_python_is_left_alone(source: str) -> None:
    assert neutralise(source) == source


def test_a_continuation_line_starting_with_an_operator_is_left_alone() -> None:
    source = "same = (\n    left\n    != right\n)\nrest = (7\n        % 2)"
    assert neutralise(source) == source


def test_load_tells_the_kinds_apart(tmp_path: Path) -> None:
    package = tmp_path / "work"
    package.mkdir()
    (package / "engine.py").write_text("class Value: ...\n", encoding="utf-8")
    module = tmp_path / "mine.py"
    module.write_text("class Value: ...\n", encoding="utf-8")
    notebook = tmp_path / "mine.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_markdown_cell("# Notes"),
                nbformat.v4.new_code_cell("%matplotlib inline\nimport math"),
            ]
        ),
        notebook,
    )
    found = {path.name: load(path) for path in (package, module, notebook)}
    assert {name: s.kind for name, s in found.items()} == {
        "work": "package",
        "mine.py": "module",
        "mine.ipynb": "notebook",
    }
    assert all(SHA256.fullmatch(s.sha256) and s.problem is None for s in found.values())
    assert found["mine.ipynb"].cells == (
        {
            "label": "<cell 2 of mine.ipynb>",
            "source": "pass  # IPython: %matplotlib inline\nimport math",
        },
    )


def test_a_package_fingerprint_follows_its_files_not_its_caches(tmp_path: Path) -> None:
    package = tmp_path / "work"
    (package / "__pycache__").mkdir(parents=True)
    (package / "engine.py").write_text("x = 1\n", encoding="utf-8")
    before = load(package).sha256
    (package / "__pycache__" / "engine.cpython-311.pyc").write_bytes(b"\0cache")
    assert load(package).sha256 == before
    (package / "engine.py").write_text("x = 2\n", encoding="utf-8")
    assert load(package).sha256 != before


def test_what_cannot_run_is_a_problem_not_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    assert load(broken).problem.startswith("The notebook broken.ipynb could not be read")


def test_a_missing_path_is_a_usage_error_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        UsageError,
        match=r"^No submission at .*missing\. Pass a path: "
        r"python -m grader my_work\.ipynb",
    ):
        load(tmp_path / "missing")
    readme = tmp_path / "README.md"
    readme.write_text("# hi\n", encoding="utf-8")
    with pytest.raises(UsageError, match="is not a folder, a .py file or a .ipynb notebook"):
        load(readme)


def test_a_folder_without_python_files_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("todo\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"holds no Python files\. Pass the folder with"):
        load(empty)


def test_more_code_than_any_solution_is_a_usage_error(tmp_path: Path) -> None:
    huge = tmp_path / "huge.py"
    huge.write_text("x = 1\n" * (MAX_SOURCE_BYTES // 6 + 1), encoding="utf-8")
    with pytest.raises(UsageError, match=r"MB of Python code; a submission may hold at most 2 MB"):
        load(huge)
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("y = 2\n" * (MAX_SOURCE_BYTES // 6 + 1))]
    )
    path = tmp_path / "huge.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(UsageError, match="MB of Python code"):
        load(path)


def test_cells_marked_skip_grading_are_left_out(tmp_path: Path) -> None:
    cells = [
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_code_cell("import matplotlib", metadata={"tags": ["skip-grading"]}),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("# skip-grading\nplot()"),
        nbformat.v4.new_code_cell("b = 2"),
    ]
    path = tmp_path / "demo.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    found = load(path)
    assert [c["label"] for c in found.cells] == ["<cell 1 of demo.ipynb>", "<cell 5 of demo.ipynb>"]
    assert [c["source"] for c in found.cells] == ["a = 1", "b = 2"]


def test_a_folder_nested_past_any_recursion_limit_is_a_usage_error(tmp_path: Path) -> None:
    """1,100 levels: os.walk would raise RecursionError; the walk says what is wrong instead."""
    (tmp_path / "engine.py").write_text("x = 1\n")
    deep = tmp_path
    for _ in range(1100):  # one level at a time: mkdir(parents=True) recurses too
        deep = deep / "d"
        deep.mkdir()
    try:
        with pytest.raises(submission.UsageError, match="nested more than"):
            submission.load(tmp_path)
    finally:
        remove_tree(tmp_path / "d")  # shutil.rmtree (pytest's clean-up) recurses too


def test_a_folder_of_thousands_of_files_is_a_usage_error(tmp_path: Path) -> None:
    """Thousands of files would overflow the worker's private copy of the submission."""
    (tmp_path / "engine.py").write_text("x = 1\n")
    for i in range(submission.MAX_ENTRIES + 1):
        (tmp_path / f"data{i}.txt").touch()
    with pytest.raises(submission.UsageError, match="more than 2000 files and folders"):
        submission.load(tmp_path)
