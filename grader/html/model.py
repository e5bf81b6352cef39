"""A case's model: its layers drawn, the parameter whose grad first differs in red, its outputs."""

from __future__ import annotations

from grader.explain import at, differ, get, items, pair, param_place, sizes_of, text
from grader.html.markup import el, escape, local_box, svg

MAX_NEURONS = 48
"""Wider layers are described, not drawn."""


def model(details: dict) -> str:
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
            el("p", f"Layer sizes {' → '.join(map(str, sizes))}: too wide to draw.", cls="mute")
        )
    if first is not None:
        yours, torch = pair(at(get(grads, "got"), first), at(get(grads, "expected"), first))
        name = text(at(names, first) or f"parameter {first}", 60)
        line = f"{name} (parameters()[{first}]): grad yours {yours}, torch {torch}"
        parts.append(local_box([line], "The first parameter whose grad differs", "first-param"))
    outputs = get(details, "outputs")
    got, expected = items(get(outputs, "got")), items(get(outputs, "expected"))
    rows = [el("tr", el("th"), el("th", "yours"), el("th", "torch"))]
    for i in range(min(max(len(got), len(expected)), 12)):
        bad = "num bad-text" if differ(at(got, i), at(expected, i)) else "num"
        cells = [el("td", escape(v), cls=bad) for v in pair(at(got, i), at(expected, i))]
        rows.append(el("tr", el("td", f"output {i}"), *cells))
    return "".join(parts) + (el("table", *rows, cls="outputs") if len(rows) > 1 else "")


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
                    shapes.append(el("line", cls="param-first", x1=x1, y1=y1, x2=x2, y2=y2))
                else:
                    edges.append(f"M{x1} {y1}L{x2} {y2}")
    for layer, size in enumerate(sizes):
        for i in range(size):
            x, y = centre(layer, i)
            owner = place is not None and layer > 0 and place[:2] == (layer - 1, i)
            css = "neuron in" if layer == 0 else "neuron first" if owner else "neuron"
            shapes.append(el("circle", cls=css, cx=x, cy=y, r=10))
            if owner and place is not None and place[2] == sizes[layer - 1]:
                shapes.append(el("text", "b", cls="bad", x=x + 14, y=y - 10))
        last = layer == len(sizes) - 1
        name = "inputs" if layer == 0 else f"{'output' if last else f'layer {layer}'} · "
        name += "" if layer == 0 else text(out_act if last else act, 12)
        shapes.append(
            el("text", escape(name, 40), cls="mute", x=centre(layer, 0)[0] - 30, y=height - 8)
        )
    drawing = svg(
        "model",
        width,
        height,
        el("path", cls="edges", d="".join(edges)),
        *shapes,
    )
    return el("div", drawing, cls="scroll")
