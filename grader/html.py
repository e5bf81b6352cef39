"""Feedback page: one self-contained HTML file for one grading (inline CSS and SVG, no script).

`render(report)` is a pure function of the JSON report (schema v2): the section table, what to
fix, then each case that did not pass, drawn from its DETAILS (the graph with your numbers and
torch's on each node, the model's layers, the loss curves), and every training run's curves.
Report values are text: each is made printable, cut to a length and escaped, so no value can add
markup, and a full failing report stays well under 2 MB.

Graph layout is our own, in `layout` below: layers by longest path from the leaves, then a few
barycentre sweeps to order each layer (Sugiyama's layered method without dummy nodes). No
library serves: graphviz, pydot and pygraphviz need the `dot` binary, which students may lack;
grandalf, the pure-Python Sugiyama, has had no release since January 2023 (and can overlap
nodes); fast-sugiyama is a compiled wheel for Python >= 3.11 (we support 3.10); igraph is a
5.7 MB compiled wheel; networkx has no crossing reduction. Drawn graphs have at most 300 nodes
(compare.MAX_DRAWN_NODES), where these 30 lines are instant and add no dependency.
"""

from __future__ import annotations

import html
import math

from grader.explain import (
    GraphNode,
    at,
    differ,
    finite,
    first_difference,
    first_wrong,
    get,
    graph_passes,
    items,
    local_lines,
    number,
    pair,
    param_place,
    sizes_of,
    text,
)

STATUSES = ("passed", "failed", "error", "timeout", "skipped", "blocked")
NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 164, 54, 32, 14, 12
SCROLL_FROM_ROOT = 1180
"""Graphs wider than this (px) open scrolled to the root, where grads are checked first."""
MAX_NEURONS = 48
"""Wider layers are described, not drawn."""
MAX_PAGE_NODES = 2500
"""Graph nodes drawn on one page (about 0.5 kB each); later graphs are left to `explain`."""

CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mute:#59636e;--card:#f6f8fa;
--line:#d1d9e0;--you:#0969da;--torch:#8c959f;--bad:#cf222e;--badbg:#ffebe9;--warn:#9a6700;
--ok:#1a7f37;--node:#fff;--on:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#9198a1;
--card:#151b23;--line:#3d444d;--you:#4493f8;--torch:#9198a1;--bad:#ff7b72;--badbg:#4b1113;
--warn:#d29922;--ok:#3fb950;--node:#0d1117;--on:#0d1117}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:1280px;margin:0 auto;padding:8px 24px 48px}
h1{font-size:22px;margin:12px 0 2px}h2{font-size:18px;margin:20px 0 6px}
h3{font-size:15px;margin:14px 0 4px;color:var(--mute)}
code,pre,svg text{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
.mute{color:var(--mute)}header{display:flex;justify-content:space-between;align-items:end;
gap:24px;border-bottom:1px solid var(--line);padding-bottom:8px}header p{margin:0}
.score{font-size:30px;font-weight:700;white-space:nowrap}
table{border-collapse:collapse}td,th{padding:2px 12px 2px 0;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{width:160px;height:8px;background:var(--line);border-radius:4px;overflow:hidden}
.bar i{display:block;height:100%;background:var(--ok)}
.causes li{margin:0 0 12px}.causes p{margin:2px 0}
.case{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:var(--card)}
.case>summary{cursor:pointer;padding:8px 12px;overflow-wrap:anywhere}
.case>div{padding:0 12px 12px}.case p{overflow-wrap:anywhere}
.st{display:inline-block;min-width:64px;text-align:center;border-radius:10px;padding:0 8px;
font-size:12px;font-weight:600;color:var(--on);background:var(--mute)}
.st.passed{background:var(--ok)}.st.failed,.st.error,.st.timeout{background:var(--bad)}
.st.blocked{background:var(--warn)}
.scroll{overflow-x:auto;background:var(--bg);border:1px solid var(--line);border-radius:6px;
margin:8px 0}.scroll.from-root{direction:rtl}.scroll svg{direction:ltr;display:block}
.local{border-left:4px solid var(--bad);background:var(--badbg);padding:6px 10px;margin:8px 0}
.local p{margin:2px 0}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px;
overflow-x:auto;user-select:all;font-size:13px}
svg text{font-size:11px;fill:var(--fg)}svg .mute{fill:var(--mute)}
.node rect{fill:var(--node);stroke:var(--line);stroke-width:1.5}
.node.root rect{stroke:var(--fg)}.node.differs rect{stroke:var(--warn);stroke-dasharray:5 3}
.node.first rect{stroke:var(--bad);stroke-width:3.5;fill:var(--badbg)}
.bad{fill:var(--bad)!important;font-weight:700}.bad-text{color:var(--bad);font-weight:700}
.edges{fill:none;stroke:var(--mute);stroke-width:1.2;opacity:.7}
.edge-local{fill:none;stroke:var(--bad);stroke-width:3.5}
.axis{stroke:var(--mute);stroke-width:1}.grid{stroke:var(--line);stroke-width:1}
.curve{fill:none;stroke-width:2.5;stroke-linejoin:round}
.curve.torch{stroke:var(--torch);stroke-width:6;opacity:.55}.curve.yours{stroke:var(--you)}
.mark{stroke:var(--bad);stroke-dasharray:4 3}
.neuron{fill:var(--node);stroke:var(--fg);stroke-width:1.5}.neuron.in{stroke:var(--mute)}
.neuron.first{stroke:var(--bad);stroke-width:4}
.param-first{stroke:var(--bad);stroke-width:4}
"""


def render(report: dict) -> str:
    """The whole page for one report: HTML5 text with every report value escaped."""
    sections = [s for s in items(get(report, "sections")) if isinstance(s, dict)]
    shown = [
        (s, t)
        for s in sections
        for t in items(get(s, "tests"))
        if isinstance(t, dict)
        and (get(t, "status") != "passed" or get(get(t, "details"), "kind") == "training")
    ]
    anchors: dict[str, str] = {}
    for n, (_, t) in enumerate(shown):
        anchors.setdefault(text(get(t, "id"), 300), f"case-{n}")
    score = f"{_points(get(report, 'score'))} / {_points(get(report, 'max_score'))}"
    body = [
        _header(report, score),
        _errors(report),
        _sections(sections),
        _causes(report, anchors),
        _cases(shown, report),
        _printed(get(report, "student_output")),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>scratchgrad feedback: {_e(score)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _el(name: str, *children: str, **attrs: object) -> str:
    """An element: attribute values escaped here, children already markup. `cls` is the
    class; `_` in other names becomes `-`; None and "" leave an attribute out."""
    shown = "".join(
        f" {'class' if key == 'cls' else key.replace('_', '-')}='{_attr(value)}'"
        for key, value in attrs.items()
        if value is not None and value != ""
    )
    return f"<{name}{shown}>{''.join(children)}</{name}>"


def _svg(cls: str, width: int, height: int, *children: str) -> str:
    box = f"0 0 {width} {height}"
    return _el("svg", *children, cls=cls, width=width, height=height, viewBox=box, role="img")


def _attr(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else html.escape(str(value))


def _e(value: object, limit: int = 300) -> str:
    """One line of report text: printable, cut to `limit`, escaped."""
    return "" if value is None else html.escape(text(value, limit))


def _lines(value: str, limit: int) -> str:
    """Several lines of report text, each made printable and escaped."""
    return "\n".join(_e(line, 200) for line in value[:limit].split("\n")[:400])


def _points(value: object) -> str:
    x = finite(value)
    if x is None:
        return _e(value, 20)
    return f"{x:g}" if x == int(x) else f"{x:.3f}".rstrip("0").rstrip(".")


def _header(report: dict, score: str) -> str:
    sub, env = get(report, "submission"), get(report, "environment")
    versions = [f"{k} {_e(get(env, k), 40)}" for k in ("python", "torch", "grader") if get(env, k)]
    graded = (
        f"Graded <code>{_e(get(sub, 'path'))}</code> ({_e(get(sub, 'kind'), 20)}) at "
        f"{_e(get(report, 'started_at'), 40)} · {' · '.join(versions)}"
    )
    held = get(report, "hidden_points_held_back")
    if finite(held):
        graded += f"<br>Hidden tests worth {_points(held)} more points run only in the course's "
        graded += "autograder."
    title = _el("div", _el("h1", "scratchgrad feedback"), _el("p", graded, cls="mute"))
    return _el("header", title, _el("p", _e(score), cls="score", id="score"))


def _errors(report: dict) -> str:
    errors = [e for e in items(get(report, "errors")) if isinstance(e, dict)]
    if not errors:
        return ""
    rows = [
        _el("li", _el("b", _e(get(e, "kind"), 40)), ": ", _e(get(e, "message"), 2000))
        for e in errors
    ]
    return _el("h2", "Problems with the submission") + _el("ul", *rows, id="errors")


def _sections(sections: list[dict]) -> str:
    rows = [_el("tr", _el("th", "Section"), _el("th", "Points"), _el("th"), _el("th"))]
    for s in sections:
        tests = [t for t in items(get(s, "tests")) if isinstance(t, dict)]
        passed = sum(get(t, "status") == "passed" for t in tests)
        score, top = get(s, "score"), get(s, "max_score")
        got, most = finite(score), finite(top)
        share = min(max(got / most, 0), 1) if got is not None and most else 0
        rows.append(
            _el(
                "tr",
                _el("td", _e(get(s, "title"), 80)),
                _el("td", f"{_points(score)} / {_points(top)}", cls="num"),
                _el("td", _el("div", _el("i", style=f"width:{100 * share:.0f}%"), cls="bar")),
                _el("td", f"{passed}/{len(tests)} tests passed", cls="mute"),
            )
        )
    return _el("h2", "Sections") + _el("table", *rows, id="sections")


def _causes(report: dict, anchors: dict[str, str]) -> str:
    errors = items(get(report, "errors"))
    causes = [
        c
        for c in items(get(report, "root_causes"))
        if isinstance(c, dict) and (get(c, "task") != "submission" or not errors)
    ]
    if not causes:
        if errors:
            return _el("p", "Every test is blocked by the problem above: fix it first.")
        return _el("h2", "What to fix") + _el("p", "Nothing: every case passed.", id="all-passed")
    entries = []
    for c in causes:
        task = get(c, "task")
        name = "" if task == "submission" else f"Task {_e(task, 10)}, "
        cases, blocks = items(get(c, "cases")), items(get(c, "blocks"))
        counts = [f"{len(cases)} of its cases fail"] if len(cases) > 1 else []
        if blocks:
            counts.append(f"it also blocks {len(blocks)} later cases")
        summary = f"{'; '.join(counts)}. " if counts else ""
        anchor = anchors.get(text(get(c, "test"), 300))
        if anchor:
            summary += _el("a", "See the case below.", href=f"#{anchor}")
        entries.append(
            _el(
                "li",
                _el("b", name, _e(get(c, "title"), 200)),
                _el("span", f" (−{_points(get(c, 'points_lost'))} points)", cls="mute"),
                _el("p", _e(get(c, "message"), 2000)),
                _el("p", summary[:1].upper() + summary[1:], cls="mute") if summary else "",
            )
        )
    return _el("h2", "What to fix, in this order") + _el(
        "ol", *entries, cls="causes", id="what-to-fix"
    )


def _cases(shown: list[tuple[dict, dict]], report: dict) -> str:
    """Each case that did not pass, and each training run, drawn from its DETAILS."""
    if not shown:
        return ""
    first_cases = {text(get(c, "test"), 300) for c in items(get(report, "root_causes"))}
    parts, section, room = [_el("h2", "The cases, drawn")], None, MAX_PAGE_NODES
    for n, (s, t) in enumerate(shown):
        if s is not section:
            section = s
            parts.append(_el("h3", _e(get(s, "title"), 80)))
        test_id = text(get(t, "id"), 300)
        details = get(t, "details")
        details = details if isinstance(details, dict) else {}
        kind, status = get(details, "kind"), get(t, "status")
        drawing = ""
        if kind == "graph":
            passes = graph_passes(details)
            size = sum(map(len, passes))
            drawing = _graph(details, passes, test_id, draw=size <= room)
            room -= size if size <= room else 0
        elif kind == "model":
            drawing = _model(details)
        elif kind == "training":
            drawing = _curves(get(details, "losses"))
        summary = _el(
            "summary",
            _el("span", _e(status, 20), cls=f"st {status if status in STATUSES else 'other'}"),
            f" {_e(get(t, 'name'), 200)} ",
            _el("code", _e(test_id), cls="mute"),
            _el(
                "span",
                f" {_points(get(t, 'score'))}/{_points(get(t, 'max_score'))} pts",
                cls="mute",
            ),
        )
        feedback = get(t, "feedback")
        body = _el("div", _el("p", _e(feedback, 2000)) if feedback else "", drawing)
        opened = "open" if test_id in first_cases or kind == "training" else None
        parts.append(_el("details", summary, body, cls="case", id=f"case-{n}", open=opened))
    return "".join(parts)


def _printed(output: object) -> str:
    printed = get(output, "text")
    if not isinstance(printed, str) or not printed:
        return ""
    cut = get(output, "truncated") or len(printed) > 4000
    return (
        _el("h2", "What your code printed")
        + _el("pre", _lines(printed, 4000), cls="printed")
        + (_el("p", "(cut)", cls="mute") if cut else "")
    )


def _reproduce(code: object) -> str:
    if not isinstance(code, str) or not code:
        return ""
    return _el("p", "Reproduce it (click the code to select it all, then copy):", cls="mute") + _el(
        "pre", _el("code", _lines(code, 12000)), cls="reproduce"
    )


def _local_box(lines: list[str], title: str, kind: str) -> str:
    """A red box: the local derivative, or the parameter, where a number first goes wrong."""
    body = [_el("p", _el("b", title)), *(_el("p", _e(x, 400)) for x in lines)]
    return _el("div", *body, cls=f"local {kind}")


def layout(args: list[tuple[int, ...]]) -> tuple[list[int], list[int]]:
    """(layer, position in layer) of each node; nodes come in topological order, `args[i]`
    naming earlier nodes. Layers by longest path from the leaves, each leaf just before its
    first use; then barycentre sweeps, down and up, order each layer."""
    users: list[list[int]] = [[] for _ in args]
    for node, node_args in enumerate(args):
        for a in node_args:
            users[a].append(node)
    layer: list[int] = []
    for node_args in args:
        layer.append(1 + max((layer[a] for a in node_args), default=-1))
    for node, node_args in enumerate(args):
        if not node_args and users[node]:
            layer[node] = min(layer[u] for u in users[node]) - 1
    rows: list[list[int]] = [[] for _ in range(max(layer, default=0) + 1)]
    for node, depth in enumerate(layer):
        rows[depth].append(node)
    position = [0] * len(args)
    for row in rows:
        for p, node in enumerate(row):
            position[node] = p
    for sweep in range(4):
        neighbours, order = (args, rows[1:]) if sweep % 2 == 0 else (users, rows[-2::-1])
        for row in order:
            row.sort(key=lambda n: _mean([position[m] for m in neighbours[n]], position[n]))
            for p, node in enumerate(row):
                position[node] = p
    return layer, position


def _mean(values: list[int], default: int) -> float:
    return sum(values) / len(values) if values else default


def _graph(details: dict, passes: list[list[GraphNode]], test_id: str, draw: bool) -> str:
    spot = first_wrong(details)
    if not passes:
        where = f"the first wrong number is node {spot[1]}'s {spot[2]}; " if spot else ""
        return _el(
            "p",
            "This graph has more than 300 nodes: the report carries no node list to draw. "
            f"In words: {where}see the message above.",
            cls="mute too-large",
        ) + _reproduce(get(details, "reproduce"))
    if not draw:
        nodes = passes[spot[0]] if spot and spot[0] < len(passes) else []
        return _el(
            "p",
            "Not drawn, to keep this page small: ",
            _el("code", f"python -m grader explain '{_e(test_id)}'"),
            " shows it node by node.",
            cls="mute",
        ) + "".join(_el("p", _e(line, 400)) for line in local_lines(details, nodes))
    specs, parts = items(get(details, "passes")), []
    for p, nodes in enumerate(passes):
        wrong = spot[1] if spot and spot[0] == p else None
        if len(passes) > 1:
            parts.append(_el("p", f"Graph {p + 1} of {len(passes)} (same leaves):", cls="mute"))
        local = get(details, "local") if wrong is not None else None
        parts.append(_graph_svg(nodes, get(at(specs, p), "root"), wrong, local, spot))
        lines = local_lines(details, nodes) if wrong is not None else []
        if lines:
            parts.append(
                _local_box(lines, "The local derivative that goes wrong here", "derivative")
            )
    legend = _el(
        "p",
        "Leaves on the left, the root on the right. Each node: how it was made, its data, and its "
        "grad, yours | torch. Red: the first wrong number (grads are checked from the root down); "
        "dashed: differs too. Hover a node for every digit.",
        cls="mute",
    )
    return "".join(parts) + legend + _reproduce(get(details, "reproduce"))


def _graph_svg(
    nodes: list[GraphNode], root: object, wrong: int | None, local: object, spot: tuple | None
) -> str:
    layer, position = layout([n.args for n in nodes])
    counts = [layer.count(d) for d in range(max(layer) + 1)]
    tallest, step_x, step_y = max(counts), NODE_W + GAP_X, NODE_H + GAP_Y
    width, height = PAD * 2 + len(counts) * step_x - GAP_X, PAD * 2 + tallest * step_y - GAP_Y
    xy = [
        (
            PAD + layer[n] * step_x,
            PAD + (tallest - counts[layer[n]]) * step_y // 2 + position[n] * step_y,
        )
        for n in range(len(nodes))
    ]
    local_edge = (get(local, "wrt"), get(local, "node"))
    curves, marked = [], ""
    for node in nodes:
        for a in node.args:
            (x1, y1), (x2, y2) = xy[a], xy[node.index]
            x1, y1, y2, mid = (
                x1 + NODE_W,
                y1 + NODE_H // 2,
                y2 + NODE_H // 2,
                (x1 + NODE_W + x2) // 2,
            )
            d = f"M{x1} {y1}C{mid} {y1} {mid} {y2} {x2} {y2}"
            if (a, node.index) == local_edge:
                marked = _el(
                    "path",
                    _el("title", "the local derivative that goes wrong"),
                    cls="edge-local",
                    d=d,
                )
            else:
                curves.append(d)
    boxes = [_node_svg(n, xy[n.index], n.index == root, n.index == wrong) for n in nodes]
    from_root = width > SCROLL_FROM_ROOT and spot is not None and spot[2] == "grad"
    svg = _svg(
        "graph",
        width,
        height,
        _el("path", cls="edges", d="".join(curves)),
        marked,
        *boxes,
    )
    return _el("div", svg, cls="scroll from-root" if from_root else "scroll")


def _node_svg(node: GraphNode, xy: tuple[int, int], root: bool, first: bool) -> str:
    label = f"{node.name} (leaf)" if node.made_by == "leaf" else f"{node.name} = {node.made_by}"
    lines = [_svg_text(label, 16, font_weight="700")]
    for y, field, values in ((32, "data", node.data), (47, "grad", node.grad)):
        if values != (None, None):
            yours, torch = pair(*values)
            bad = differ(*values)
            shown = f"{yours} | torch {torch}" if bad or field == "grad" else yours
            lines.append(_svg_text(f"{field} {shown}", y, cls="bad" if bad else None))
    tip = "\n".join(
        [label]
        + [
            f"{f}: yours {_exact(v[0])}, torch {_exact(v[1])}"
            for f, v in (("data", node.data), ("grad", node.grad))
        ]
    )
    state = "first" if first else "differs" if node.differs else ""
    return _el(
        "g",
        _el("title", _lines(tip, 400)),
        _el("rect", width=NODE_W, height=NODE_H, rx=6),
        *lines,
        cls=" ".join(c for c in ("node", state, "root" if root else "") if c),
        transform=f"translate({xy[0]},{xy[1]})",
    )


def _svg_text(line: str, y: int, **attrs: object) -> str:
    """A line of a node's box, squeezed to fit when it is long."""
    if len(line) > 22:
        attrs.update(textLength=NODE_W - 16, lengthAdjust="spacingAndGlyphs")
    return _el("text", _e(line, 60), x=8, y=y, **attrs)


def _exact(value: object) -> str:
    x = finite(value)
    return number(value) if x is None else repr(x)


def _model(details: dict) -> str:
    """The model as its layers, the parameter whose grad first differs in red; its outputs."""
    sizes, names = sizes_of(details), items(get(details, "param_names"))
    grads, first = get(details, "param_grads"), get(details, "first_param")
    first = first if isinstance(first, int) and not isinstance(first, bool) else None
    place = param_place(sizes, first) if first is not None else None
    parts = []
    if sizes and max(sizes) <= MAX_NEURONS:
        parts.append(
            _model_svg(sizes, place, get(details, "activation"), get(details, "output_activation"))
        )
    elif sizes:
        parts.append(
            _el("p", f"Layer sizes {' → '.join(map(str, sizes))}: too wide to draw.", cls="mute")
        )
    if first is not None:
        yours, torch = pair(at(get(grads, "got"), first), at(get(grads, "expected"), first))
        name = text(at(names, first) or f"parameter {first}", 60)
        line = f"{name} (parameters()[{first}]): grad yours {yours}, torch {torch}"
        parts.append(_local_box([line], "The first parameter whose grad differs", "first-param"))
    outputs = get(details, "outputs")
    got, expected = items(get(outputs, "got")), items(get(outputs, "expected"))
    rows = [_el("tr", _el("th"), _el("th", "yours"), _el("th", "torch"))]
    for i in range(min(max(len(got), len(expected)), 12)):
        bad = "num bad-text" if differ(at(got, i), at(expected, i)) else "num"
        cells = [_el("td", _e(v), cls=bad) for v in pair(at(got, i), at(expected, i))]
        rows.append(_el("tr", _el("td", f"output {i}"), *cells))
    return "".join(parts) + (_el("table", *rows, cls="outputs") if len(rows) > 1 else "")


def _model_svg(
    sizes: list[int], place: tuple[int, int, int] | None, act: object, out_act: object
) -> str:
    gap_x, gap_y, tallest = 150, 30, max(sizes)
    width, height = 60 + (len(sizes) - 1) * gap_x + 90, 30 + tallest * gap_y + 30

    def centre(layer: int, i: int) -> tuple[int, int]:
        return 60 + layer * gap_x, 20 + (
            tallest - sizes[layer]
        ) * gap_y // 2 + i * gap_y + gap_y // 2

    edges, shapes = [], []
    for layer in range(1, len(sizes)):
        for j in range(sizes[layer]):
            for i in range(sizes[layer - 1]):
                (x1, y1), (x2, y2) = centre(layer - 1, i), centre(layer, j)
                if place == (layer - 1, j, i):
                    shapes.append(_el("line", cls="param-first", x1=x1, y1=y1, x2=x2, y2=y2))
                else:
                    edges.append(f"M{x1} {y1}L{x2} {y2}")
    for layer, size in enumerate(sizes):
        for i in range(size):
            x, y = centre(layer, i)
            owner = place is not None and layer > 0 and place[:2] == (layer - 1, i)
            css = "neuron in" if layer == 0 else "neuron first" if owner else "neuron"
            shapes.append(_el("circle", cls=css, cx=x, cy=y, r=10))
            if owner and place is not None and place[2] == sizes[layer - 1]:
                shapes.append(_el("text", "b", cls="bad", x=x + 14, y=y - 10))
        last = layer == len(sizes) - 1
        name = "inputs" if layer == 0 else f"{'output' if last else f'layer {layer}'} · "
        name += "" if layer == 0 else text(out_act if last else act, 12)
        shapes.append(
            _el("text", _e(name, 40), cls="mute", x=centre(layer, 0)[0] - 30, y=height - 8)
        )
    svg = _svg(
        "model",
        width,
        height,
        _el("path", cls="edges", d="".join(edges)),
        *shapes,
    )
    return _el("div", svg, cls="scroll")


def _curves(losses: object) -> str:
    """Your loss per step over torch's, on a log scale when the losses span a wide range."""
    got, expected = items(get(losses, "got")), items(get(losses, "expected"))
    values = [x for x in map(finite, got + expected) if x is not None]
    if not values:
        return _el("p", "No loss to draw: neither list holds a number.", cls="mute")
    log = min(values) > 0 and max(values) / min(values) >= 20
    scale = math.log10 if log else float
    low, high = scale(min(values)), scale(max(values))
    if high - low < 1e-12:
        low, high = low - 1, high + 1
    width, height, left, right, top, bottom = 720, 290, 70, 20, 34, 44
    steps, base = max(len(got), len(expected), 2), height - bottom

    def sx(i: float) -> float:
        return left + i / (steps - 1) * (width - left - right)

    def sy(v: float) -> float:
        return top + (high - scale(v)) / (high - low) * (base - top)

    parts = [
        _el("line", cls="axis", x1=left, y1=base, x2=width - right, y2=base),
        _el("line", cls="axis", x1=left, y1=top, x2=left, y2=base),
        _el(
            "text",
            "loss (log)" if log else "loss",
            cls="mute",
            x=left - 6,
            y=top - 14,
            text_anchor="end",
        ),
        _el("text", "step", cls="mute", x=(left + width) // 2, y=height - 6, text_anchor="middle"),
    ]
    for tick in _ticks(low, high, log):
        parts.append(_el("line", cls="grid", x1=left, y1=sy(tick), x2=width - right, y2=sy(tick)))
        parts.append(
            _el("text", f"{tick:.3g}", cls="mute", x=left - 6, y=sy(tick) + 4, text_anchor="end")
        )
    for step in _nice(0, steps - 1, 6):
        parts.append(
            _el("text", f"{step:g}", cls="mute", x=sx(step), y=base + 16, text_anchor="middle")
        )
    first = first_difference(got, expected)
    if first is not None:
        parts.append(_el("line", cls="mark", x1=sx(first), y1=top, x2=sx(first), y2=base))
        parts.append(
            _el("text", f"first difference: step {first}", cls="bad", x=sx(first) + 4, y=base - 6)
        )
    for name, series in (("torch", expected), ("yours", got)):
        for run in _runs(series):
            points = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in run)
            parts.append(_el("polyline", cls=f"curve {name}", points=points))
    for offset, name in ((260, "yours"), (130, "torch")):
        x = width - right - offset
        parts.append(_el("line", cls=f"curve {name}", x1=x, y1=top - 18, x2=x + 30, y2=top - 18))
        parts.append(_el("text", name, x=x + 38, y=top - 14))
    svg = _svg(
        "losses",
        width,
        height,
        *parts,
    )
    ends = [_e(number(at(series, len(series) - 1))) for series in (got, expected)]
    last = f"Last loss: yours {ends[0]}, torch {ends[1]}."
    missing = sum(finite(v) is None for v in got)
    gaps = (
        f" {missing} of your {len(got)} losses are not numbers (gaps in the curve)."
        if missing
        else ""
    )
    return _el("div", svg, cls="scroll") + _el("p", last + gaps, cls="mute")


def _runs(values: list) -> list[list[tuple[int, float]]]:
    """Runs of consecutive numbers: a step that is not a number breaks the curve."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        x = finite(v)
        if x is not None:
            runs[-1].append((i, x))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _ticks(low: float, high: float, log: bool) -> list[float]:
    if not log:
        return _nice(low, high, 5)
    ticks = [10.0**k for k in range(math.floor(low), math.ceil(high) + 1)]
    if len(ticks) < 5:
        ticks = [t * m for t in ticks for m in (1, 2, 5)]
    return [t for t in ticks if low - 1e-9 <= math.log10(t) <= high + 1e-9]


def _nice(low: float, high: float, count: int) -> list[float]:
    """Round values from low to high, about `count` of them."""
    raw = (high - low) / count or 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step) * step
    return [start + k * step for k in range(int((high - start) / step + 1e-9) + 1)]
