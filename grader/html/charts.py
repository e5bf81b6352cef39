"""Charts of a training run: your loss per step over torch's, log-scaled when they span widely."""

from __future__ import annotations

import math

from grader.explain import at, finite, first_difference, get, items, number
from grader.html.markup import el, escape, svg

RANGE = 1e-100, 1e100
"""Magnitudes drawn; a loss beyond them (a student's 1.5e308, or 5e-324) is left off the chart
like a loss that is not a number, so that the scale's arithmetic stays finite."""


def plottable(value: object) -> float | None:
    x = finite(value)
    if x is None or abs(x) > RANGE[1] or (x != 0 and abs(x) < RANGE[0]):
        return None
    return x


def curves(losses: object) -> str:
    """Your loss per step over torch's, on a log scale when the losses span a wide range."""
    got, expected = items(get(losses, "got")), items(get(losses, "expected"))
    values = [x for x in map(plottable, got + expected) if x is not None]
    if not values:
        return el("p", "No loss to draw: neither list holds a number.", cls="mute")
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
        el("line", cls="axis", x1=left, y1=base, x2=width - right, y2=base),
        el("line", cls="axis", x1=left, y1=top, x2=left, y2=base),
        el(
            "text",
            "loss (log)" if log else "loss",
            cls="mute",
            x=left - 6,
            y=top - 14,
            text_anchor="end",
        ),
        el("text", "step", cls="mute", x=(left + width) // 2, y=height - 6, text_anchor="middle"),
    ]
    for tick in _ticks(low, high, log):
        parts.append(el("line", cls="grid", x1=left, y1=sy(tick), x2=width - right, y2=sy(tick)))
        parts.append(
            el("text", f"{tick:.3g}", cls="mute", x=left - 6, y=sy(tick) + 4, text_anchor="end")
        )
    for step in _nice(0, steps - 1, 6):
        parts.append(
            el("text", f"{step:g}", cls="mute", x=sx(step), y=base + 16, text_anchor="middle")
        )
    first = first_difference(got, expected)
    if first is not None:
        parts.append(el("line", cls="mark", x1=sx(first), y1=top, x2=sx(first), y2=base))
        parts.append(
            el("text", f"first difference: step {first}", cls="bad", x=sx(first) + 4, y=base - 6)
        )
    for name, series in (("torch", expected), ("yours", got)):
        for run in _runs(series):
            points = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in run)
            parts.append(el("polyline", cls=f"curve {name}", points=points))
    for offset, name in ((260, "yours"), (130, "torch")):
        x = width - right - offset
        parts.append(el("line", cls=f"curve {name}", x1=x, y1=top - 18, x2=x + 30, y2=top - 18))
        parts.append(el("text", name, x=x + 38, y=top - 14))
    drawing = svg(
        "losses",
        width,
        height,
        *parts,
    )
    ends = [escape(number(at(series, len(series) - 1))) for series in (got, expected)]
    last = f"Last loss: yours {ends[0]}, torch {ends[1]}."
    missing = sum(plottable(v) is None for v in got)
    gaps = (
        f" {missing} of your {len(got)} losses are not numbers, or too large or too small"
        " to draw (gaps in the curve)."
        if missing
        else ""
    )
    return el("div", drawing, cls="scroll") + el("p", last + gaps, cls="mute")


def _runs(values: list) -> list[list[tuple[int, float]]]:
    """Runs of consecutive numbers: a step that is not a number breaks the curve."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        x = plottable(v)
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
