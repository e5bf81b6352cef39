"""grader/stubs.py: solution regions become stubs, and exercises/ is what it generates."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import nbformat
import pytest

import exercises
import solutions
from grader import submission
from grader.stubs import (
    HEADER,
    build_module,
    build_notebook,
    generate,
    main,
    out_of_date,
    stub_source,
)

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS, EXERCISES = REPO / "solutions", REPO / "exercises"
API = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]
TASK_IDS = [f"1.{n}" for n in range(1, 12)] + [f"2.{n}" for n in range(1, 8)]
TASK_IDS += ["3.1"] + [f"4.{n}" for n in range(1, 8)] + ["5.1", "5.2"]
RAISED_TASK = re.compile(r'raise NotImplementedError\("Task (\d+\.\d+): ')

# One call per solution region that runs into it (1.11 has four regions, one per reflected op).
PROBES: list[tuple[str, Callable[[Any], object]]] = [
    ("1.1", lambda m: m.Value(1.0) + m.Value(2.0)),
    ("1.2", lambda m: m.Value(1.0) * m.Value(2.0)),
    ("1.3", lambda m: m.Value(2.0) ** 3),
    ("1.4", lambda m: m.Value(0.5).tanh()),
    ("1.5", lambda m: m.Value(0.5).exp()),
    ("1.6", lambda m: m.Value(0.5).relu()),
    ("1.7", lambda m: m.Value(0.5).log()),
    ("1.8", lambda m: -m.Value(1.0)),
    ("1.9", lambda m: m.Value(1.0) - m.Value(2.0)),
    ("1.10", lambda m: m.Value(1.0) / m.Value(2.0)),
    ("1.11", lambda m: 1 + m.Value(2.0)),
    ("1.11", lambda m: 1 - m.Value(2.0)),
    ("1.11", lambda m: 3 * m.Value(2.0)),
    ("1.11", lambda m: 1 / m.Value(2.0)),
    ("2.1", lambda m: (m.Value(1.0) + m.Value(2.0)).backward()),
    ("2.2", lambda m: (m.Value(1.0) * m.Value(2.0)).backward()),
    ("2.3", lambda m: (m.Value(2.0) ** 3).backward()),
    ("2.4", lambda m: m.Value(0.5).tanh().backward()),
    ("2.5", lambda m: m.Value(0.5).exp().backward()),
    ("2.6", lambda m: m.Value(0.5).relu().backward()),
    ("2.7", lambda m: m.Value(0.5).log().backward()),
    ("3.1", lambda m: m.Value(1.0).backward()),
    ("4.1", lambda m: m.MLP(2, [1]).zero_grad()),
    ("4.2", lambda m: m.Neuron(2)([1.0, 2.0])),
    ("4.3", lambda m: m.Neuron(2).parameters()),
    ("4.4", lambda m: m.Layer(2, 2)([1.0, 2.0])),
    ("4.5", lambda m: m.Layer(2, 2).parameters()),
    ("4.6", lambda m: m.MLP(2, [2, 1])([1.0, 2.0])),
    ("4.7", lambda m: m.MLP(2, [1]).parameters()),
    ("5.1", lambda m: m.mse_loss([m.Value(1.0)], [0.0])),
    ("5.2", lambda m: m.train(m.MLP(2, [1]), [[1.0, 2.0]], [1.0], steps=1)),
]
# In the full stubs, a backward rule is reached only through the forward of the same op.
FIRST_RAISED = {f"2.{n}": f"1.{n}" for n in range(1, 8)}


@pytest.fixture
def load_package(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], ModuleType]]:
    """Return a loader of a package made of the given files, removed from sys.modules after."""
    before = set(sys.modules)

    def load(files: dict[str, str]) -> ModuleType:
        name = f"stubbed_{len(sys.modules)}"
        directory = tmp_path / name
        directory.mkdir()
        for file_name, content in files.items():
            (directory / file_name).write_text(content, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(
            name, directory / "__init__.py", submodule_search_locations=[str(directory)]
        )
        assert spec and spec.loader
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
        return package

    yield load
    for name in set(sys.modules) - before:
        del sys.modules[name]


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SOLUTIONS.glob("*.py"))}


def code_cells(notebook: nbformat.NotebookNode, *, demo: bool) -> str:
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    return "\n\n".join(c.source for c in cells if demo or "demo" not in c.metadata.get("tags", []))


def run_cells(source: str) -> SimpleNamespace:
    namespace: dict[str, Any] = {"__name__": "scratch_mlp"}
    exec(compile(source, "scratch_mlp.ipynb", "exec"), namespace)
    return SimpleNamespace(**namespace)


def behaviour(m: Any) -> tuple[list[float], list[float], list[float]]:
    """Run m's API on a seeded model and a small graph; return what came out."""
    random.seed(3)
    model = m.MLP(3, [4, 4, 1])
    losses = m.train(model, [[2, 3, -1], [3, -1, 0.5]], [1, -1], steps=5)
    a, b = m.Value(0.5), m.Value(-2)
    root = ((a * b + 2 / a) ** 2 - a.exp() / (1 - b)).tanh() + (a * a).log() + b.relu()
    root.backward()
    return losses, [p.data for p in model.parameters()], [root.data, a.grad, b.grad]


def test_committed_exercises_are_up_to_date_with_solutions() -> None:
    assert out_of_date(SOLUTIONS, EXERCISES) == []


def test_generate_writes_the_same_bytes_every_time(tmp_path: Path) -> None:
    first, second = (
        generate(SOLUTIONS, tmp_path / "first"),
        generate(SOLUTIONS, tmp_path / "second"),
    )
    names = ["__init__.py", "engine.py", "nn.py", "train.py", "scratch_mlp.ipynb"]
    assert [p.name for p in first] == [p.name for p in second] == names
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_every_generated_file_starts_with_the_generated_header() -> None:
    for path in EXERCISES.glob("*.py"):
        assert path.read_text(encoding="utf-8").startswith(f"# {HEADER}\n"), path.name
    notebook = nbformat.read(EXERCISES / "scratch_mlp.ipynb", as_version=4)
    assert notebook.cells[0].source.startswith(f"*{HEADER}*\n")


def test_out_of_date_names_changed_and_missing_files(tmp_path: Path) -> None:
    generate(SOLUTIONS, tmp_path)
    (tmp_path / "nn.py").write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "scratch_mlp.ipynb").unlink()
    assert out_of_date(SOLUTIONS, tmp_path) == ["nn.py", "scratch_mlp.ipynb"]


def test_stub_raises_name_exactly_the_fixed_task_ids() -> None:
    stubs = "".join(p.read_text(encoding="utf-8") for p in sorted(EXERCISES.glob("*.py")))
    raised = Counter(RAISED_TASK.findall(stubs))
    assert sorted(raised, key=TASK_IDS.index) == TASK_IDS
    assert raised == Counter(task for task, _ in PROBES)


@pytest.mark.parametrize(("task", "probe"), PROBES, ids=[task for task, _ in PROBES])
def test_task_stubbed_alone_raises_naming_it(
    load_package: Callable[[dict[str, str]], ModuleType],
    task: str,
    probe: Callable[[Any], object],
) -> None:
    files = {name: stub_source(text, tasks={task}) for name, text in solution_files().items()}
    with pytest.raises(NotImplementedError, match=rf"^Task {re.escape(task)}: \S"):
        probe(load_package(files))


@pytest.mark.parametrize(("task", "probe"), PROBES, ids=[task for task, _ in PROBES])
def test_exercises_raise_the_task_of_each_stubbed_call(
    task: str, probe: Callable[[Any], object]
) -> None:
    first = FIRST_RAISED.get(task, task)
    with pytest.raises(NotImplementedError, match=rf"^Task {re.escape(first)}: \S"):
        probe(exercises)


def test_exercises_are_usable_as_far_as_given() -> None:
    v = exercises.Value(2)
    assert (v.data, v.grad) == (2.0, 0.0)
    assert repr(v) == "Value(data=2.0, grad=0.0)"
    model = exercises.MLP(3, [4, 4, 1])
    assert [len(layer.neurons) for layer in model.layers] == [4, 4, 1]


def test_all_is_exactly_the_public_api() -> None:
    assert solutions.__all__ == API
    assert exercises.__all__ == API


def test_stub_source_replaces_regions_at_their_indentation_and_keeps_the_rest() -> None:
    source = (
        "def f(x):\n"
        '    """Docstring."""\n'
        "    y = 1  # kept\n"
        "    # BEGIN SOLUTION 9.1: compute y\n"
        "    y = x\n"
        "    # END SOLUTION\n"
        "\n"
        "    def g():\n"
        "        # BEGIN SOLUTION 9.2: write g\n"
        "        return y\n"
        "        # END SOLUTION\n"
        "\n"
        "    return g\n"
    )
    stub = (
        "def f(x):\n"
        '    """Docstring."""\n'
        "    y = 1  # kept\n"
        '    raise NotImplementedError("Task 9.1: compute y")\n'
        "\n"
        "    def g():\n"
        '        raise NotImplementedError("Task 9.2: write g")\n'
        "\n"
        "    return g\n"
    )
    assert stub_source(source) == stub
    assert stub_source(source, tasks={"9.1"}) == stub.replace(
        '        raise NotImplementedError("Task 9.2: write g")\n',
        "        # BEGIN SOLUTION 9.2: write g\n        return y\n        # END SOLUTION\n",
    )
    assert stub_source(source, tasks=set()) == source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f():\n    # BEGIN SOLUTION 1.1: x\n    pass\n", "no # END SOLUTION"),
        ("def f():\n    pass\n    # END SOLUTION\n", "Line 3 closes a region"),
        ("# BEGIN SOLUTION 1.1: x\n# END SOLUTION\n", "Line 1 opens a region outside"),
        (
            "def f():\n    # BEGIN SOLUTION 1.1: x\n    # BEGIN SOLUTION 1.2: y\n",
            "Line 3 opens a region inside that of Task 1.1",
        ),
        ('def f():\n    # BEGIN SOLUTION 1.1: say "hi"\n', "Line 2 is not a valid"),
        ("def f():\n    # BEGIN SOLUTION 1.1 no colon\n", "Line 2 is not a valid"),
    ],
    ids=["unclosed", "unopened", "top level", "nested", "quote in text", "no colon"],
)
def test_stub_source_rejects_malformed_regions(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        stub_source(source)


def test_single_module_has_one_import_block_and_no_package_imports() -> None:
    source = build_module(SOLUTIONS, solutions=True)
    imports = [line for line in source.splitlines() if re.match(r"(from \S+ )?import ", line)]
    assert imports[0] == "from __future__ import annotations"
    assert len(imports) == len(set(imports))
    assert not any(line.startswith("from .") for line in imports)
    assert source.index("class Value") < source.index("class Module") < source.index("def train")


def test_single_module_with_solutions_behaves_like_the_package(tmp_path: Path) -> None:
    path = tmp_path / "scratch_mlp.py"
    path.write_text(build_module(SOLUTIONS, solutions=True), encoding="utf-8")
    assert behaviour(load_module(path)) == behaviour(solutions)


def test_single_module_as_stubs_imports_and_raises_task_ids(tmp_path: Path) -> None:
    path = tmp_path / "scratch_mlp.py"
    path.write_text(build_module(SOLUTIONS, solutions=False), encoding="utf-8")
    module = load_module(path)
    for task, probe in PROBES:
        first = FIRST_RAISED.get(task, task)
        with pytest.raises(NotImplementedError, match=rf"^Task {re.escape(first)}: "):
            probe(module)


def test_notebooks_validate_with_unique_fixed_cell_ids() -> None:
    committed = nbformat.read(EXERCISES / "scratch_mlp.ipynb", as_version=4)
    for notebook in (committed, build_notebook(SOLUTIONS, solutions=True)):
        nbformat.validate(notebook)
        ids = [cell.id for cell in notebook.cells]
        assert len(ids) == len(set(ids))
    assert nbformat.writes(build_notebook(SOLUTIONS, solutions=False)) == nbformat.writes(committed)


class Pyplot(ModuleType):
    """Stands in for matplotlib.pyplot (not installed here): records each call."""

    def __init__(self) -> None:
        super().__init__("matplotlib.pyplot")
        self.calls: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


def test_notebook_with_solutions_trains_plots_and_behaves_like_the_package(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pyplot = Pyplot()
    monkeypatch.setitem(sys.modules, "matplotlib", ModuleType("matplotlib"))
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    monkeypatch.setattr(sys.modules["matplotlib"], "pyplot", pyplot, raising=False)
    notebook = run_cells(code_cells(build_notebook(SOLUTIONS, solutions=True), demo=True))
    printed = capsys.readouterr().out
    assert "step  0: loss" in printed and "prediction" in printed
    assert notebook.losses[-1] < notebook.losses[0] / 10
    assert behaviour(notebook) == behaviour(solutions)
    calls = {name: args for name, args, _ in pyplot.calls}
    assert list(calls["plot"][1]) == notebook.losses
    predictions = [notebook.model(x).data for x in notebook.xs]
    assert [args for name, args, _ in pyplot.calls if name == "scatter"][1][1] == predictions
    assert [name for name, _, _ in pyplot.calls].count("show") == 2


def test_the_grader_runs_no_demo_cell_of_the_notebook() -> None:
    notebook = nbformat.read(EXERCISES / "scratch_mlp.ipynb", as_version=4)
    demo = [c for c in notebook.cells if "demo" in c.metadata.get("tags", [])]
    assert len(demo) == 5 and all("skip-grading" in c.metadata.tags for c in demo)
    assert "matplotlib" in demo[-2].source and "pip install matplotlib" in demo[-2].source
    graded = submission.load(EXERCISES / "scratch_mlp.ipynb").cells
    assert len(graded) == len([c for c in notebook.cells if c.cell_type == "code"]) - len(demo)
    assert not any("matplotlib" in c["source"] or "losses = train(" in c["source"] for c in graded)


def test_notebook_stubs_define_everything_and_the_demo_names_the_first_task() -> None:
    notebook = build_notebook(SOLUTIONS, solutions=False)
    namespace = run_cells(code_cells(notebook, demo=False))
    assert all(hasattr(namespace, name) for name in API)
    with pytest.raises(NotImplementedError, match=r"^Task 5\.2: "):
        run_cells(code_cells(notebook, demo=True))


def test_main_check_reports_stale_files_then_generation_fixes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = ["--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)]
    assert main(["--check", *dirs]) == 1
    assert "engine.py is out of date" in capsys.readouterr().out
    assert main(dirs) == 0
    assert "Wrote 5 files" in capsys.readouterr().out
    assert main(["--check", *dirs]) == 0
    assert "up to date" in capsys.readouterr().out


def test_main_without_solutions_explains_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--solutions", str(tmp_path), "--exercises", str(tmp_path)]) == 2
    assert "pass --solutions DIR" in capsys.readouterr().err
