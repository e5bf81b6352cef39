"""The page: header, problems, section table, what to fix, then each case that did not pass."""

from __future__ import annotations

from grader.explain import finite, get, graph_passes, items, text
from grader.html.charts import curves
from grader.html.graph import graph
from grader.html.markup import el, escape, escape_lines, points
from grader.html.model import model
from grader.html.style import CSS

STATUSES = ("passed", "failed", "error", "timeout", "skipped", "blocked")
MAX_PAGE_NODES = 2500
"""Graph nodes drawn on one page (about 0.5 kB each); later graphs are left to `explain`."""


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
    score = f"{points(get(report, 'score'))} / {points(get(report, 'max_score'))}"
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
        f"<title>scratchgrad feedback: {escape(score)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def unavailable(exc: BaseException) -> str:
    """The page written when `render` fails: it says so, and where the results are."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>scratchgrad feedback</title><style>{CSS}</style></head><body><main>"
        + el("h1", "scratchgrad feedback")
        + el(
            "p",
            f"This page could not be drawn ({escape(type(exc).__name__, 40)}). The JSON report "
            "beside it holds every result; please tell your instructor.",
        )
        + "</main></body></html>\n"
    )


def _header(report: dict, score: str) -> str:
    sub, env = get(report, "submission"), get(report, "environment")
    versions = [
        f"{k} {escape(get(env, k), 40)}" for k in ("python", "torch", "grader") if get(env, k)
    ]
    graded = (
        f"Graded <code>{escape(get(sub, 'path'))}</code> ({escape(get(sub, 'kind'), 20)}) at "
        f"{escape(get(report, 'started_at'), 40)} · {' · '.join(versions)}"
    )
    held = get(report, "hidden_points_held_back")
    if finite(held):
        graded += f"<br>Hidden tests worth {points(held)} more points run only in the course's "
        graded += "autograder."
    title = el("div", el("h1", "scratchgrad feedback"), el("p", graded, cls="mute"))
    return el("header", title, el("p", escape(score), cls="score", id="score"))


def _errors(report: dict) -> str:
    errors = [e for e in items(get(report, "errors")) if isinstance(e, dict)]
    if not errors:
        return ""
    rows = [
        el("li", el("b", escape(get(e, "kind"), 40)), ": ", escape(get(e, "message"), 2000))
        for e in errors
    ]
    return el("h2", "Problems with the submission") + el("ul", *rows, id="errors")


def _sections(sections: list[dict]) -> str:
    rows = [el("tr", el("th", "Section"), el("th", "Points"), el("th"), el("th"))]
    for s in sections:
        tests = [t for t in items(get(s, "tests")) if isinstance(t, dict)]
        passed = sum(get(t, "status") == "passed" for t in tests)
        score, top = get(s, "score"), get(s, "max_score")
        got, most = finite(score), finite(top)
        share = min(max(got / most, 0), 1) if got is not None and most else 0
        rows.append(
            el(
                "tr",
                el("td", escape(get(s, "title"), 80)),
                el("td", f"{points(score)} / {points(top)}", cls="num"),
                el("td", el("div", el("i", style=f"width:{100 * share:.0f}%"), cls="bar")),
                el("td", f"{passed}/{len(tests)} tests passed", cls="mute"),
            )
        )
    return el("h2", "Sections") + el("table", *rows, id="sections")


def _causes(report: dict, anchors: dict[str, str]) -> str:
    errors = items(get(report, "errors"))
    causes = [
        c
        for c in items(get(report, "root_causes"))
        if isinstance(c, dict) and (get(c, "task") != "submission" or not errors)
    ]
    if not causes:
        if errors:
            return el("p", "Every test is blocked by the problem above: fix it first.")
        return el("h2", "What to fix") + el("p", "Nothing: every case passed.", id="all-passed")
    entries = []
    for c in causes:
        task = get(c, "task")
        name = "" if task == "submission" else f"Task {escape(task, 10)}, "
        cases, blocks = items(get(c, "cases")), items(get(c, "blocks"))
        counts = [f"{len(cases)} of its cases fail"] if len(cases) > 1 else []
        if blocks:
            counts.append(f"it also blocks {len(blocks)} later cases")
        summary = f"{'; '.join(counts)}. " if counts else ""
        anchor = anchors.get(text(get(c, "test"), 300))
        if anchor:
            summary += el("a", "See the case below.", href=f"#{anchor}")
        entries.append(
            el(
                "li",
                el("b", name, escape(get(c, "title"), 200)),
                el("span", f" (−{points(get(c, 'points_lost'))} points)", cls="mute"),
                el("p", escape(get(c, "message"), 2000)),
                el("p", summary[:1].upper() + summary[1:], cls="mute") if summary else "",
            )
        )
    return el("h2", "What to fix, in this order") + el(
        "ol", *entries, cls="causes", id="what-to-fix"
    )


def _cases(shown: list[tuple[dict, dict]], report: dict) -> str:
    """Each case that did not pass, and each training run, drawn from its DETAILS."""
    if not shown:
        return ""
    first_cases = {text(get(c, "test"), 300) for c in items(get(report, "root_causes"))}
    parts, section, room = [el("h2", "The cases, drawn")], None, MAX_PAGE_NODES
    for n, (s, t) in enumerate(shown):
        if s is not section:
            section = s
            parts.append(el("h3", escape(get(s, "title"), 80)))
        test_id = text(get(t, "id"), 300)
        details = get(t, "details")
        details = details if isinstance(details, dict) else {}
        kind, status = get(details, "kind"), get(t, "status")
        drawing = ""
        try:
            if kind == "graph":
                passes = graph_passes(details)
                size = sum(map(len, passes))
                drawing = graph(details, passes, test_id, draw=size <= room)
                room -= size if size <= room else 0
            elif kind == "model":
                drawing = model(details)
            elif kind == "training":
                drawing = curves(get(details, "losses"))
        except Exception as exc:  # the numbers came from the submission: the page still stands
            drawing = el(
                "p",
                f"This case could not be drawn ({escape(type(exc).__name__, 40)}); its feedback "
                "above and the JSON report hold its result.",
                cls="mute",
            )
        summary = el(
            "summary",
            el("span", escape(status, 20), cls=f"st {status if status in STATUSES else 'other'}"),
            f" {escape(get(t, 'name'), 200)} ",
            el("code", escape(test_id), cls="mute"),
            el(
                "span",
                f" {points(get(t, 'score'))}/{points(get(t, 'max_score'))} pts",
                cls="mute",
            ),
        )
        feedback = get(t, "feedback")
        body = el("div", el("p", escape(feedback, 2000)) if feedback else "", drawing)
        opened = "open" if test_id in first_cases or kind == "training" else None
        parts.append(el("details", summary, body, cls="case", id=f"case-{n}", open=opened))
    return "".join(parts)


def _printed(output: object) -> str:
    printed = get(output, "text")
    if not isinstance(printed, str) or not printed:
        return ""
    cut = get(output, "truncated") or len(printed) > 4000
    return (
        el("h2", "What your code printed")
        + el("pre", escape_lines(printed, 4000), cls="printed")
        + (el("p", "(cut)", cls="mute") if cut else "")
    )
