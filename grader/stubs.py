"""Generate the exercises from the reference solutions: every solution region becomes a stub.

In solutions/, a region inside a function body reads

    # BEGIN SOLUTION 2.4: implement the backward rule of Value.tanh
    ...the reference code...
    # END SOLUTION

and the stub replaces it, at the same indentation, by

    raise NotImplementedError("Task 2.4: implement the backward rule of Value.tanh")

Everything outside the regions, docstrings included, is kept byte for byte.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Container
from pathlib import Path

import nbformat

from grader.submission import SKIP_TAG

MODULES = ("engine", "nn", "train")
NOTEBOOK = "scratch_mlp.ipynb"
HEADER = (
    "Generated from solutions/ by `python -m grader stubs` (maintainers: edit solutions/ instead)."
)
REPO = Path(__file__).resolve().parent.parent

_BEGIN = re.compile(
    r'(?P<indent>[ \t]*)# BEGIN SOLUTION (?P<task>\d+\.\d+): (?P<text>[^"\\\n]+)\n?'
)
_END = re.compile(r"[ \t]*# END SOLUTION\n?")
_MARKER = re.compile(r"#\s*(BEGIN|END)\s+SOLUTION")

_INTRO = f"""\
*{HEADER}*

# Build a neural network from scratch

You will build a tiny autograd engine (PyTorch's autograd, for single numbers), a multi-layer
perceptron on top of it, and train it: Andrej Karpathy's micrograd, step by step.

Every place to fill in raises `NotImplementedError("Task N.M: ...")`. Replace that line with your
code; the docstring above it says what to compute. `docs/api.md` lists every task by its id.
Work in order: part 1 before part 2, and so on. Check your work at any time from a terminal:

    python -m grader scratch_mlp.ipynb

The grader compares your code with PyTorch and names, for each task, what it expected and got."""

_ENGINE_TEXT = """\
## Parts 1 to 3: the `Value` class

A `Value` holds one number, `data`, and remembers how it was made: the Values it was computed
from (`_prev`) and the op (`_op`). Each op returns a new Value, so a computation builds a graph.

**Part 1, forward (Tasks 1.1 to 1.11).** Each primitive op (`+`, `*`, `**`, `tanh`, `exp`, `relu`,
`log`) computes `out = Value(data, children, op)`. Negation, subtraction and division are one line
each, built from the primitives. The reflected ops make `2 * x` work: Python calls `x.__rmul__(2)`.

**Part 2, backward rules (Tasks 2.1 to 2.7).** `grad` is the derivative of the graph's root with
respect to the Value. Each primitive sets `out._backward`, one step of the chain rule: given
`out.grad`, add `d(out)/d(input) * out.grad` to each input's `grad`. Add with `+=`: a Value used
twice, as in `a * a`, receives a share from each use.

| op | out | d(out)/d(input) |
|---|---|---|
| `a + b` | a + b | 1 for a, 1 for b |
| `a * b` | a b | b for a, a for b |
| `x ** k` | x<sup>k</sup> | k x<sup>k-1</sup> |
| `x.tanh()` | tanh x | 1 - tanh<sup>2</sup> x |
| `x.exp()` | e<sup>x</sup> | e<sup>x</sup> |
| `x.relu()` | max(0, x) | 1 if x > 0, else 0 |
| `x.log()` | ln x | 1 / x |

**Part 3, `backward()` (Task 3.1).** `root.backward()` sets `root.grad = 1.0`, then calls each
node's `_backward` after those of all the nodes that use it: a reverse topological order. Build
the order with a loop and a stack, not recursion, so that a chain of 100,000 ops works. The
grader checks the backward rules through `backward()`: until this task is done, it reports them
as blocked by Task 3.1."""

_NN_TEXT = """\
## Part 4: neurons, layers and MLPs (Tasks 4.1 to 4.7)

A `Neuron(nin)` holds `nin` weights `w` and a bias `b`, and computes `activation(w . x + b)` with
activation `"tanh"`, `"relu"` or `"linear"` (none). A `Layer` is a list of neurons that see the
same inputs; an `MLP` is a list of layers, each feeding the next. `parameters()` lists every
weight and bias in a fixed order (layer by layer, neuron by neuron, weights then bias): the grader
copies them into PyTorch in that order. `zero_grad()` resets their gradients to 0."""

_TRAIN_TEXT = """\
## Part 5: the loss and the training loop (Tasks 5.1 and 5.2)

`mse_loss` is the mean of the squared differences between predictions and targets. `train`
repeats: predict, compute the loss, zero the gradients, `loss.backward()`, then step every
parameter against its gradient, `p.data -= lr * p.grad`."""

_DEMO_TEXT = """\
## Try it

Four examples of three inputs, each with a target of +1 or -1. Once every task is done, the loss
falls step after step and the predictions approach the targets.

These last cells are a demo: the grader never runs them (each carries the cell tag
`skip-grading`). The plots use matplotlib, in this notebook only; if it is missing, run
`%pip install matplotlib` in a cell (or `pip install matplotlib` in a terminal)."""

_DEMO_CELLS = (
    (
        "demo-data",
        """\
random.seed(1337)
xs = [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]
ys = [1, -1, -1, 1]
model = MLP(3, [4, 4, 1])""",
    ),
    (
        "demo-train",
        """\
losses = train(model, xs, ys, steps=50, lr=0.1)
for step in range(0, len(losses), 5):
    print(f"step {step:2d}: loss {losses[step]:.4f}")""",
    ),
    (
        "demo-predictions",
        """\
for x, y in zip(xs, ys):
    print(f"target {y:+d}: prediction {model(x).data:+.3f}")""",
    ),
    (
        "demo-plot-loss",
        """\
import matplotlib.pyplot as plt  # missing? run: %pip install matplotlib

plt.plot(range(len(losses)), losses, marker=".")
plt.yscale("log")
plt.xlabel("step")
plt.ylabel("loss (mean squared error)")
plt.title("Training MLP(3, [4, 4, 1]) on the four examples")
plt.show()""",
    ),
    (
        "demo-plot-predictions",
        """\
examples = range(1, len(xs) + 1)
plt.scatter(examples, ys, s=120, marker="o", label="target")
plt.scatter(examples, [model(x).data for x in xs], s=120, marker="x", label="prediction")
plt.axhline(0, color="gray", linewidth=0.5)
plt.xticks(examples, [f"example {i}" for i in examples])
plt.ylim(-1.25, 1.25)
plt.legend()
plt.title("The trained MLP on the sample data")
plt.show()""",
    ),
)
DEMO_TAGS = ["demo", SKIP_TAG]
"""The grader runs no cell tagged skip-grading."""


def stub_source(text: str, *, tasks: Container[str] | None = None) -> str:
    """Turn a module's solution regions (only those of tasks, if given) into raises."""
    out: list[str] = []
    region: re.Match[str] | None = None
    stubbed = False
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        begin, end = _BEGIN.fullmatch(line), _END.fullmatch(line)
        if _MARKER.search(line) and not (begin or end):
            raise ValueError(
                f"Line {number} is not a valid solution marker; write "
                '"# BEGIN SOLUTION N.M: task text" (no quotes or backslashes) or "# END SOLUTION".'
            )
        if begin:
            if region:
                raise ValueError(
                    f"Line {number} opens a region inside that of Task {region['task']}."
                )
            if not begin["indent"]:
                raise ValueError(f"Line {number} opens a region outside a function body.")
            region, stubbed = begin, tasks is None or begin["task"] in tasks
            task = f"Task {begin['task']}: {begin['text']}"
            out.append(
                f'{begin["indent"]}raise NotImplementedError("{task}")\n' if stubbed else line
            )
        elif end:
            if not region:
                raise ValueError(f"Line {number} closes a region that was never opened.")
            region = None
            if not stubbed:
                out.append(line)
        elif not (region and stubbed):
            out.append(line)
    if region:
        raise ValueError(f"The region of Task {region['task']} has no # END SOLUTION.")
    return "".join(out)


def build_module(source_dir: Path, *, solutions: bool) -> str:
    """Return the package as one module: one import block, then engine, nn and train."""
    imports, bodies = _parts(source_dir, solutions=solutions)
    content = "the reference solutions" if solutions else "the exercises, to fill in"
    docstring = f'"""scratchgrad\'s engine, nn and train modules in one file: {content}."""'
    return "\n\n\n".join([f"# {HEADER}\n{docstring}\n\n{imports}", *bodies])


def build_notebook(source_dir: Path, *, solutions: bool) -> nbformat.NotebookNode:
    """Return the notebook form: explanations, the definitions, then a demo (never graded) that
    trains a model on toy data and plots its loss and predictions."""
    imports, (engine, nn, train) = _parts(source_dir, solutions=solutions)
    cells = [
        nbformat.v4.new_markdown_cell(_INTRO, id="intro"),
        nbformat.v4.new_code_cell(imports, id="imports"),
        nbformat.v4.new_markdown_cell(_ENGINE_TEXT, id="engine-text"),
        nbformat.v4.new_code_cell(engine.rstrip("\n"), id="engine"),
        nbformat.v4.new_markdown_cell(_NN_TEXT, id="nn-text"),
        nbformat.v4.new_code_cell(nn.rstrip("\n"), id="nn"),
        nbformat.v4.new_markdown_cell(_TRAIN_TEXT, id="train-text"),
        nbformat.v4.new_code_cell(train.rstrip("\n"), id="train"),
        nbformat.v4.new_markdown_cell(_DEMO_TEXT, id="demo-text"),
        *(
            nbformat.v4.new_code_cell(source, id=cell_id, metadata={"tags": DEMO_TAGS})
            for cell_id, source in _DEMO_CELLS
        ),
    ]
    metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata)


def generate(source_dir: Path, exercises_dir: Path) -> list[Path]:
    """Write the exercises (package and notebook) generated from source_dir; return their paths."""
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in _exercise_files(source_dir).items():
        path = exercises_dir / name
        path.write_text(content, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def out_of_date(source_dir: Path, exercises_dir: Path) -> list[str]:
    """Return the names of the exercise files that differ from what generate would write."""
    return [
        name
        for name, content in _exercise_files(source_dir).items()
        if not (exercises_dir / name).is_file()
        or (exercises_dir / name).read_text(encoding="utf-8") != content
    ]


def main(argv: list[str] | None = None) -> int:
    """Run `python -m grader stubs [--check]`; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m grader stubs",
        description="Generate the exercises (stubs) from the reference solutions.",
    )
    parser.add_argument(
        "--check", action="store_true", help="only report exercise files that are out of date"
    )
    parser.add_argument(
        "--solutions",
        type=Path,
        default=REPO / "solutions",
        metavar="DIR",
        help="the reference package (default: solutions/ of this checkout)",
    )
    parser.add_argument(
        "--exercises",
        type=Path,
        default=REPO / "exercises",
        metavar="DIR",
        help="where the exercises go (default: exercises/ of this checkout)",
    )
    args = parser.parse_args(argv)
    if not all((args.solutions / f"{name}.py").is_file() for name in ("__init__", *MODULES)):
        print(
            f"No reference solutions at {args.solutions}. Run this from a scratchgrad checkout, "
            "or pass --solutions DIR.",
            file=sys.stderr,
        )
        return 2
    try:
        if not args.check:
            written = generate(args.solutions, args.exercises)
            names = ", ".join(path.name for path in written)
            print(f"Wrote {len(written)} files to {args.exercises} from {args.solutions}: {names}.")
            return 0
        stale = out_of_date(args.solutions, args.exercises)
    except ValueError as error:
        print(f"Cannot generate the exercises: {error}", file=sys.stderr)
        return 2
    for name in stale:
        print(f"{args.exercises / name} is out of date with {args.solutions}.")
    if stale:
        print("Regenerate the exercises with: python -m grader stubs")
        return 1
    print(f"The exercises in {args.exercises} are up to date with {args.solutions}.")
    return 0


def _exercise_files(source_dir: Path) -> dict[str, str]:
    """Return each exercise file's name and content, generated from source_dir."""
    files = {"__init__.py": f"# {HEADER}\n{_read(source_dir, '__init__')}"}
    for name in MODULES:
        files[f"{name}.py"] = f"# {HEADER}\n{_stubbed(source_dir, name)}"
    files[NOTEBOOK] = nbformat.writes(build_notebook(source_dir, solutions=False)) + "\n"
    return files


def _parts(source_dir: Path, *, solutions: bool) -> tuple[str, list[str]]:
    """Return the modules' merged import block and each module's body after its imports."""
    plain: set[str] = set()
    from_imports: dict[str, set[str]] = {}
    bodies = []
    for name in MODULES:
        source = _read(source_dir, name) if solutions else _stubbed(source_dir, name)
        tree = ast.parse(source)
        has_docstring = ast.get_docstring(tree) is not None
        header_end = tree.body[0].end_lineno if has_docstring else 0
        for statement in tree.body[1 if has_docstring else 0 :]:
            if isinstance(statement, ast.Import):
                plain.update(_alias(alias) for alias in statement.names)
            elif isinstance(statement, ast.ImportFrom):
                # A relative import names one of the package's modules, now in the same file.
                if statement.level == 0:
                    names = from_imports.setdefault(str(statement.module), set())
                    names.update(_alias(alias) for alias in statement.names)
            else:
                break
            header_end = statement.end_lineno
        bodies.append("".join(source.splitlines(keepends=True)[header_end:]).strip("\n") + "\n")
    future = from_imports.pop("__future__", set())
    lines = [f"from __future__ import {', '.join(sorted(future))}\n"] if future else []
    lines += [f"import {module}" for module in sorted(plain)]
    lines += [
        f"from {module} import {', '.join(sorted(names))}"
        for module, names in sorted(from_imports.items())
    ]
    return "\n".join(lines), bodies


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def _read(source_dir: Path, name: str) -> str:
    return (source_dir / f"{name}.py").read_text(encoding="utf-8")


def _stubbed(source_dir: Path, name: str) -> str:
    """Return the stub of one solution module, naming the module in any marker error."""
    try:
        return stub_source(_read(source_dir, name))
    except ValueError as error:
        raise ValueError(f"{source_dir / name}.py: {error}") from error
