"""HTML and SVG elements whose every report value is made printable, cut to a length and escaped."""

from __future__ import annotations

import html

from grader.explain import finite, text
from grader.report import points as plain_points


def el(name: str, *children: str, **attrs: object) -> str:
    """An element: attribute values escaped here, children already markup. `cls` is the
    class; `_` in other names becomes `-`; None and "" leave an attribute out."""
    shown = "".join(
        f" {'class' if key == 'cls' else key.replace('_', '-')}='{_attr(value)}'"
        for key, value in attrs.items()
        if value is not None and value != ""
    )
    return f"<{name}{shown}>{''.join(children)}</{name}>"


def svg(cls: str, width: int, height: int, *children: str) -> str:
    box = f"0 0 {width} {height}"
    return el("svg", *children, cls=cls, width=width, height=height, viewBox=box, role="img")


def _attr(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else html.escape(str(value))


def escape(value: object, limit: int = 300) -> str:
    """One line of report text: printable, cut to `limit`, escaped."""
    return "" if value is None else html.escape(text(value, limit))


def escape_lines(value: str, limit: int) -> str:
    """Several lines of report text, each made printable and escaped."""
    return "\n".join(escape(line, 200) for line in value[:limit].split("\n")[:400])


def points(value: object) -> str:
    """Points as the terminal report writes them (7, 7.5, 0.375); any other value as text."""
    x = finite(value)
    return escape(value, 20) if x is None else plain_points(x)


def local_box(lines: list[str], title: str, kind: str) -> str:
    """A red box: the local derivative, or the parameter, where a number first goes wrong."""
    body = [el("p", el("b", title)), *(el("p", escape(x, 400)) for x in lines)]
    return el("div", *body, cls=f"local {kind}")
