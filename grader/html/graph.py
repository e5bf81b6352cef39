"""A case's graph drawn: each node's data and grad, yours beside torch's, the first wrong in red."""

from __future__ import annotations

from grader.explain import (
    GraphNode,
    at,
    differ,
    finite,
    first_wrong,
    get,
    items,
    local_lines,
    number,
    pair,
)
from grader.html.layout import layout
from grader.html.markup import el, escape, escape_lines, local_box, svg

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 164, 54, 32, 14, 12
SCROLL_FROM_ROOT = 1180
"""Graphs wider than this (px) open scrolled to the root, where grads are checked first."""


def graph(details: dict, passes: list[list[GraphNode]], test_id: str, draw: bool) -> str:
    """Each backward() pass drawn (or, if `draw` is false or there is no node list, described),
    the local derivative that goes wrong, and the code that reproduces it."""
    spot = first_wrong(details)
    if not passes:
        where = f"the first wrong number is node {spot[1]}'s {spot[2]}; " if spot else ""
        return el(
            "p",
            "This graph has more than 300 nodes: the report carries no node list to draw. "
            f"In words: {where}see the message above.",
            cls="mute too-large",
        ) + _reproduce(get(details, "reproduce"))
    if not draw:
        nodes = passes[spot[0]] if spot and spot[0] < len(passes) else []
        return el(
            "p",
            "Not drawn, to keep this page small: ",
            el("code", f"python -m grader explain '{escape(test_id)}'"),
            " shows it node by node.",
            cls="mute",
        ) + "".join(el("p", escape(line, 400)) for line in local_lines(details, nodes))
    specs, parts = items(get(details, "passes")), []
    for p, nodes in enumerate(passes):
        wrong = spot[1] if spot and spot[0] == p else None
        if len(passes) > 1:
            parts.append(el("p", f"Graph {p + 1} of {len(passes)} (same leaves):", cls="mute"))
        local = get(details, "local") if wrong is not None else None
        parts.append(_graph_svg(nodes, get(at(specs, p), "root"), wrong, local, spot))
        lines = local_lines(details, nodes) if wrong is not None else []
        if lines:
            parts.append(
                local_box(lines, "The local derivative that goes wrong here", "derivative")
            )
    legend = el(
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
                marked = el(
                    "path",
                    el("title", "the local derivative that goes wrong"),
                    cls="edge-local",
                    d=d,
                )
            else:
                curves.append(d)
    boxes = [_node_svg(n, xy[n.index], n.index == root, n.index == wrong) for n in nodes]
    from_root = width > SCROLL_FROM_ROOT and spot is not None and spot[2] == "grad"
    drawing = svg(
        "graph",
        width,
        height,
        el("path", cls="edges", d="".join(curves)),
        marked,
        *boxes,
    )
    return el("div", drawing, cls="scroll from-root" if from_root else "scroll")


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
    return el(
        "g",
        el("title", escape_lines(tip, 400)),
        el("rect", width=NODE_W, height=NODE_H, rx=6),
        *lines,
        cls=" ".join(c for c in ("node", state, "root" if root else "") if c),
        transform=f"translate({xy[0]},{xy[1]})",
    )


def _svg_text(line: str, y: int, **attrs: object) -> str:
    """A line of a node's box, squeezed to fit when it is long."""
    if len(line) > 22:
        attrs.update(textLength=NODE_W - 16, lengthAdjust="spacingAndGlyphs")
    return el("text", escape(line, 60), x=8, y=y, **attrs)


def _exact(value: object) -> str:
    x = finite(value)
    return number(value) if x is None else repr(x)


def _reproduce(code: object) -> str:
    if not isinstance(code, str) or not code:
        return ""
    return el("p", "Reproduce it (click the code to select it all, then copy):", cls="mute") + el(
        "pre", el("code", escape_lines(code, 12000)), cls="reproduce"
    )
