"""`python -m grader explain TEST_ID`: one case of the report, in the terminal.

A failing graph is walked from its root down, node by node, with the student's data and grad
beside torch's; at the first wrong node, the local derivative that goes wrong there. Models and
training runs get the same side-by-side view as tables. This module also reads a case's DETAILS
for the feedback page (grader/html/): the report's shape is trusted, its values are not (any
key may be missing, a list short, a number a string the submission sent instead).
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import math
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from grader.compare import close, show, show_pair
from grader.probes import SYMBOLS
from grader.protocol import printable

EXIT_OK, EXIT_USAGE = 0, 2
COLUMNS = ("data (you)", "data (torch)", "grad (you)", "grad (torch)")
MAX_ROWS = 40
"""Longer tables show the rows around the first difference."""


@dataclass(frozen=True)
class GraphNode:
    """One node of one backward() pass, as the report gives it."""

    index: int
    name: str
    made_by: str
    """How it was made, e.g. `a * b` or `x.tanh()`; "leaf" for a leaf."""
    args: tuple[int, ...]
    """The nodes it was made from (constants left out)."""
    data: tuple[object, object]
    """(yours, torch's): a float, a string the submission gave instead, or None."""
    grad: tuple[object, object]
    differs: str
    """"data", "grad" or "" (the first field that differs from torch's)."""


def text(value: object, limit: int = 40) -> str:
    """Any value from the report as one printable line of at most `limit` characters."""
    shown = value if isinstance(value, str) else json.dumps(value, default=repr)
    cut = printable(shown, limit)
    return cut + "…" if len(shown) > limit else cut


def finite(value: object) -> float | None:
    """A report value as a finite float, or None (strings, None, NaN, huge ints...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def number(value: object) -> str:
    x = finite(value)
    if x is not None:
        return show(x)
    return "?" if value is None else text(value, 24)


def pair(got: object, expected: object) -> tuple[str, str]:
    """Yours and torch's, with just enough digits to see that they differ."""
    g, e = finite(got), finite(expected)
    if g is not None and e is not None and not close(g, e):
        e_text, g_text = show_pair(e, g)
        return g_text, e_text
    return number(got), number(expected)


def differ(got: object, expected: object) -> bool:
    g, e = finite(got), finite(expected)
    if g is not None and e is not None:
        return not close(g, e)
    return expected is not None and got != expected


def get(obj: object, key: str) -> object:
    return obj.get(key) if isinstance(obj, dict) else None


def items(obj: object) -> list:
    return obj if isinstance(obj, list) else []


def at(values: object, index: object) -> object:
    if isinstance(values, list) and isinstance(index, int) and 0 <= index < len(values):
        return values[index]
    return None


def graph_passes(details: dict) -> list[list[GraphNode]]:
    """Each backward() pass as its nodes (leaves first); [] for a graph too large to carry."""
    names, leaves = items(get(details, "names")), items(get(details, "leaves"))
    passes = []
    for spec in items(get(details, "passes")):
        made = [n for n in items(get(spec, "nodes")) if isinstance(n, dict)]
        count = len(leaves) + len(made)
        if count == 0:
            continue
        data, grad = get(spec, "data"), get(spec, "grad")

        def name(i: int) -> str:
            return text(at(names, i) or f"n{i}", 24)

        nodes = []
        for i in range(count):
            node = made[i - len(leaves)] if i >= len(leaves) else None
            args = items(get(node, "args"))
            refs = tuple(a for a in args if isinstance(a, int) and 0 <= a < i)
            operands = [name(a) if isinstance(a, int) else number(get(a, "const")) for a in args]
            values = [(at(get(f, "got"), i), at(get(f, "expected"), i)) for f in (data, grad)]
            nodes.append(
                GraphNode(
                    index=i,
                    name=name(i),
                    made_by="leaf" if node is None else _expression(get(node, "op"), operands),
                    args=refs,
                    data=values[0],
                    grad=values[1],
                    differs="data" if differ(*values[0]) else "grad" if differ(*values[1]) else "",
                )
            )
        passes.append(nodes)
    return passes


def first_wrong(details: dict) -> tuple[int, int, str] | None:
    """(pass, node, field) of the first wrong number, if the report names one."""
    spot = get(details, "first_wrong")
    place = get(spot, "pass"), get(spot, "node"), get(spot, "field")
    if isinstance(place[0], int) and isinstance(place[1], int) and place[2] in ("data", "grad"):
        return place[0], place[1], str(place[2])
    return None


def local_lines(details: dict, nodes: list[GraphNode]) -> list[str]:
    """The local derivative that goes wrong at the first wrong node, in words: [] if unknown."""
    local = get(details, "local")
    if not isinstance(local, dict):
        return []
    user, wrt = at(nodes, get(local, "node")), at(nodes, get(local, "wrt"))
    out = user.name if isinstance(user, GraphNode) else "out"
    x = wrt.name if isinstance(wrt, GraphNode) else "x"
    yours, torch = pair(get(local, "yours"), get(local, "torch"))
    rule, guess = text(get(local, "rule") or "", 120), text(get(local, "guess") or "", 120)
    lhs, _, rhs = rule.partition(" = ")
    if rhs and " and " not in rhs:
        used = guess if guess.startswith("you used ") else "yours"
        lines = [f"{lhs}: {used} ({yours}), torch {rhs} ({torch})"]
    else:
        lines = [f"d {out}/d {x}: yours {yours}, torch {torch}"] + (
            [f"rule: {rule}"] if rule else []
        )
    where = f"{out} = {user.made_by}" if isinstance(user, GraphNode) else out
    lines.append(
        f"at {where}, with {x} = {number(get(local, 'x'))} and "
        f"{out}.grad = {number(get(local, 'upstream'))}"
    )
    if guess and not lines[0].startswith(f"{lhs}: you used"):
        lines.append(f"likely: {guess}")
    return lines


def walk(nodes: list[GraphNode], root: object) -> list[GraphNode]:
    """The nodes from the root down, each after every node that uses it (as backward() goes);
    every node, last first, when there is no root."""
    if not (isinstance(root, int) and 0 <= root < len(nodes)):
        return nodes[::-1]
    reached = {root}
    for node in reversed(nodes[: root + 1]):
        if node.index in reached:
            reached.update(node.args)
    return [n for n in reversed(nodes) if n.index in reached]


def param_place(sizes: list[int], index: int) -> tuple[int, int, int] | None:
    """(layer, neuron, input) of parameters()[index]; input == nin for the bias."""
    for layer, (nin, nout) in enumerate(itertools.pairwise(sizes)):
        if index < nout * (nin + 1):
            return layer, index // (nin + 1), index % (nin + 1)
        index -= nout * (nin + 1)
    return None


def sizes_of(details: dict) -> list[int]:
    sizes = items(get(details, "sizes"))
    ok = sizes and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes)
    return sizes if ok else []


def first_difference(got: object, expected: object) -> int | None:
    g, e = items(got), items(expected)
    return next((i for i in range(max(len(g), len(e))) if differ(at(g, i), at(e, i))), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader explain",
        description="Show one case of the last grading: a failing graph node by node, "
        "a model's parameter grads or a training run's losses, yours beside torch's.",
    )
    parser.add_argument("test_id", metavar="TEST_ID", help="e.g. 'backward::test_tanh[0.5]'")
    parser.add_argument(
        "--report",
        type=Path,
        default=Path("grader-report.json"),
        metavar="FILE",
        help="the JSON report of a grading (default: grader-report.json)",
    )
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(
            f"Cannot read the report {args.report} ({text(str(error), 200)}). Grade first with "
            "`python -m grader`, or pass --report FILE.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    tests = {
        t["id"]: t
        for s in items(get(report, "sections"))
        for t in items(get(s, "tests"))
        if isinstance(get(t, "id"), str)
    }
    test = tests.get(args.test_id)
    if test is None:
        print(_not_found(args.test_id, list(tests), args.report), file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(explain(test)))
    return EXIT_OK


def explain(test: dict) -> list[str]:
    """The lines that `explain` prints for one case of the report."""
    status = text(get(test, "status"), 20)
    task = get(test, "task")
    head = f"[{status}] {text(test['id'], 200)}: {text(get(test, 'name'), 200)}"
    lines = [head + (f" (Task {text(task, 10)})" if task else "")]
    if status == "passed":
        return [*lines, "This case passed: there is nothing to fix here."]
    feedback = get(test, "feedback")
    if feedback:
        lines += textwrap.wrap(
            text(feedback, 2000), 96, initial_indent="  ", subsequent_indent="  "
        )
    details = get(test, "details")
    details = details if isinstance(details, dict) else {}
    kind = get(details, "kind")
    if kind == "graph":
        lines += _graph(details)
    elif kind == "model":
        lines += _model(details)
    elif kind == "training":
        lines += _series("loss at each step", get(details, "losses"), lambda i: f"step {i}")
    else:
        lines += ["", "This case has no graph, model or training run to show."]
    return lines


def _graph(details: dict) -> list[str]:
    passes, spot = graph_passes(details), first_wrong(details)
    specs = items(get(details, "passes"))
    if not passes:
        where = ""
        if spot:
            where = (
                f" The first wrong number is node {spot[1]}'s {spot[2]} (see the message above)."
            )
        return ["", f"This graph has too many nodes to list (over 300).{where}"]
    lines = []
    for p, nodes in enumerate(passes):
        root = get(at(specs, p), "root")
        top = at(nodes, root)
        title = f"backward() of {top.name}" if isinstance(top, GraphNode) else "the forward pass"
        count = f", graph {p + 1} of {len(passes)}" if len(passes) > 1 else ""
        lines += ["", f"{title}{count}, from the root down (yours | torch):"]
        width = max(len("node"), *(len(n.name) for n in nodes)) + 2
        made = max(len("made by"), *(len(n.made_by) for n in nodes)) + 2
        header = "".join(f"{h:<14}" for h in COLUMNS).rstrip()
        lines.append(f"    {'node':<{width}}{'made by':<{made}}{header}")
        for node in walk(nodes, root):
            first = spot is not None and spot[:2] == (p, node.index)
            mark = ">>" if first else " *" if node.differs else "  "
            cells = "".join(f"{v:<14}" for f in (node.data, node.grad) for v in pair(*f))
            note = f"  <- first wrong {spot[2]}" if first and spot else ""
            lines.append(
                f"  {mark}{node.name:<{width}}{node.made_by:<{made}}{cells}{note}".rstrip()
            )
            if first:
                lines += [f"       {line}" for line in local_lines(details, nodes)]
    lines += ["", ">> the first wrong number (checked from the root down); * also differs"]
    reproduce = get(details, "reproduce")
    if isinstance(reproduce, str) and reproduce:
        lines += ["", "Reproduce it:"]
        lines += [f"  | {text(line, 200)}" for line in reproduce.splitlines()[:400]]
    return lines


def _model(details: dict) -> list[str]:
    sizes = sizes_of(details)
    hidden, output = (
        text(get(details, "activation"), 20),
        text(get(details, "output_activation"), 20),
    )
    acts = f"{hidden}, output {output}"
    shape = " -> ".join(map(str, sizes)) or "?"
    lines = ["", f"{text(get(details, 'model'), 20)} with layer sizes {shape} ({acts})"]
    lines += _series("outputs", get(details, "outputs"), lambda i: f"output {i}")
    names = items(get(details, "param_names"))
    grads = get(details, "param_grads")
    if isinstance(grads, dict):
        lines += _series(
            "parameter grads", grads, lambda i: text(at(names, i) or f"parameters()[{i}]", 30)
        )
    return lines


def _series(title: str, values: object, label) -> list[str]:
    """A got/expected pair of lists as a table, the first difference marked."""
    got, expected = items(get(values, "got")), items(get(values, "expected"))
    count = max(len(got), len(expected))
    first = first_difference(got, expected)
    rows = range(count)
    if count > MAX_ROWS:
        start = max(0, min((first or 0) - MAX_ROWS // 4, count - MAX_ROWS))
        rows = range(start, start + MAX_ROWS)
    lines = ["", f"{title} (yours | torch):"]
    if len(got) != len(expected):
        lines.append(f"  yours has {len(got)} values, torch {len(expected)}")
    for i in rows:
        mark = ">>" if i == first else " *" if differ(at(got, i), at(expected, i)) else "  "
        g, e = pair(at(got, i), at(expected, i))
        lines.append(f"  {mark}{label(i):<32}{g:<20}{e}")
    if len(rows) < count:
        lines.append(f"  (rows {rows.start} to {rows.stop - 1} of {count})")
    if first is None:
        lines.append("  every value matches torch's")
    return lines


def _not_found(test_id: str, ids: list[str], report: Path) -> str:
    shown = text(test_id, 200)
    close_ids = [i for i in ids if test_id and test_id in i][:5]
    close_ids += [
        i for i in difflib.get_close_matches(test_id, ids, n=5, cutoff=0.5) if i not in close_ids
    ]
    if close_ids:
        listed = ", ".join(text(i, 200) for i in close_ids[:5])
        return f"No test {shown} in {report}. Close ids: {listed}."
    return (
        f"No test {shown} in {report}, nor one close to it. Ids look like "
        "'backward::test_tanh[0.5]': `python -m grader -v` lists every case that did not pass."
    )


def _expression(op: object, operands: list[str]) -> str:
    op_name = text(op, 12)
    if op in SYMBOLS:
        return f" {SYMBOLS[str(op)]} ".join(operands)
    if op == "neg" and operands:
        return f"-{operands[0]}"
    return (
        f"{operands[0]}.{op_name}()" if len(operands) == 1 else f"{op_name}({', '.join(operands)})"
    )
