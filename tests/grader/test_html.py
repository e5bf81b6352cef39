"""grader/html: the feedback page, read back as HTML and in a real browser (chromium).

`SCRATCHGRAD_UPDATE_SCREENSHOT=1 python -m pytest tests/grader/test_html.py` also writes the
light-scheme screenshot to docs/feedback-page.png.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grader.html
from grader.html import render
from grader.html.layout import layout
from grader.html.page import MAX_PAGE_NODES

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "tests" / "fixtures" / "reports"
SCREENSHOT = REPO / "docs" / "feedback-page.png"
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
SCHEMES = {"light": "1", "dark": "0"}
"""Blink's preferredColorScheme: what prefers-color-scheme reports to the page."""
COLOURS = {"light": {"bg": (255, 255, 255), "bad": (207, 34, 46)}}
COLOURS["dark"] = {"bg": (13, 17, 23), "bad": (255, 123, 114)}
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
)


def load(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text(encoding="utf-8"))


VOID = {"meta", "br", "img", "input", "link", "hr"}


class Page(HTMLParser):
    """Every element of a page: (tag, attributes, text inside it)."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self.open: list[list[str]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        element = (tag, {k: v or "" for k, v in attrs}, [])
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element[2])

    def handle_endtag(self, tag):
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data):
        for chunk in self.open:
            chunk.append(data)

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list:
        return [
            (t, a, "".join(inner))
            for t, a, inner in self.elements
            if (tag is None or t == tag)
            and (cls is None or cls in a.get("class", "").split())
            and all(a.get(k) == v for k, v in attrs.items())
        ]

    def text(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> str:
        found = self.find(tag, cls, **attrs)
        assert found, (tag, cls, attrs)
        return found[0][2]


def shown(report: dict) -> int:
    """How many cases the page lists: those that did not pass, and every training run."""
    tests = [t for s in report["sections"] for t in s["tests"]]
    return sum(
        t["status"] != "passed" or (t["details"] or {}).get("kind") == "training" for t in tests
    )


def case(report: dict, test_id: str) -> dict:
    return next(t for s in report["sections"] for t in s["tests"] if t["id"] == test_id)


def case_page(report: dict, test_id: str) -> Page:
    """The page's element for one case."""
    page = Page(render(report))
    number = next(
        i for i, (_, a, inner) in enumerate(page.find("details", "case")) if test_id in inner
    )
    return Page(_slice(render(report), f"id='case-{number}'"))


def _slice(markup: str, marker: str) -> str:
    start = markup.rindex("<details", 0, markup.index(marker))
    end = markup.find("<details class='case'", start + 1)
    return markup[start : end if end > 0 else len(markup)]


def assert_no_markup_from_the_report(page: Page) -> None:
    assert not page.find(id="injected")
    assert not page.find("script") and not page.find("img") and not page.find("iframe")
    for tag, attrs, _ in page.elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not attrs.get("href", "").startswith("javascript"), (tag, attrs)


def test_page_is_self_contained_with_no_script() -> None:
    page = render(load("failing"))
    assert page.startswith("<!DOCTYPE html>")
    parsed = Page(page)
    assert not parsed.find("script") and not parsed.find("link") and not parsed.find("img")
    assert "http://" not in page and "https://" not in page and "url(" not in page
    assert "prefers-color-scheme:dark" in page


def test_the_section_table_and_what_to_fix_come_in_the_report_order() -> None:
    report = load("failing")
    page = Page(render(report))
    rows = [inner for _, _, inner in page.find("tr")[1:]]
    assert [r.split(" of each op")[0] for r in rows[:2]] == ["Forward pass", "Backward rule"]
    assert "0.75 / 1.5" in rows[0] and "1/2 tests passed" in rows[0]
    causes = [inner for _, _, inner in page.find("li")]
    assert len(causes) == len(report["root_causes"])
    for shown, cause in zip(causes, report["root_causes"], strict=True):
        assert f"Task {cause['task']}, {cause['title']}" in shown
        assert cause["message"] in shown
    assert "2 of its cases fail" in causes[1] and "See the case below." in causes[1]


def test_the_first_wrong_node_and_its_local_derivative_are_highlighted() -> None:
    page = case_page(load("failing"), "backward::test_tanh[0.5]")
    (first,) = page.find("g", "first")
    assert "x (leaf)" in first[2] and "grad 0.75 | torch 0.7864" in first[2]
    assert "root" in page.find("g", "node")[1][1]["class"]
    assert page.find("path", "edge-local")
    local = page.text("div", "local")
    assert "d tanh(x)/dx: you used 1 - x^2 (the input, not tanh(x)) (0.75)" in local
    assert "torch 1 - tanh(x)^2 (0.7864)" in local
    assert "x = Value(0.5)" in page.text("pre", "reproduce")


def test_a_reused_node_with_no_single_local_derivative_is_still_marked() -> None:
    page = case_page(load("failing"), "backprop::test_reused_nodes[diamond]")
    (first,) = page.find("g", "first")
    assert "d = a * b" in first[2] and "grad 2 | torch 3" in first[2]
    assert {"a (leaf)", "b (leaf)"} <= {g[2].split("\n")[0] for g in page.find("g", "differs")}
    assert not page.find("div", "local") and not page.find("path", "edge-local")


def test_each_backward_pass_of_a_graph_is_drawn() -> None:
    page = case_page(load("failing"), "backprop::test_leaf_grads_accumulate_across_graphs[mixed]")
    assert len(page.find("svg", "graph")) == 2
    (first,) = page.find("g", "first")
    assert "b (leaf)" in first[2] and "grad 1 | torch 2.5" in first[2]


def test_a_graph_too_large_to_carry_is_told_in_words() -> None:
    page = case_page(load("failing"), "backprop::test_reverse_topological_order[mixed]")
    assert not page.find("svg")
    assert "more than 300 nodes" in page.text("p", "too-large")
    assert "node 501's grad" in page.text("p", "too-large")


def test_a_forward_failure_marks_the_wrong_data() -> None:
    page = case_page(load("failing"), "forward::test_mul[2.0--3.5]")
    (first,) = page.find("g", "first")
    assert "out = a * b" in first[2] and "data <NoneType> | torch -7" in first[2]


def test_the_model_is_drawn_with_the_first_wrong_weight() -> None:
    page = case_page(load("failing"), "nn::test_mlp_gradients[two-hidden-tanh]")
    assert len(page.find("circle")) == 3 + 4 + 4 + 1
    assert len(page.find("line", "param-first")) == 1
    assert "layer 2 neuron 1 w[2] (parameters()[18])" in page.text("div", "first-param")
    assert len(page.find("circle", "first")) == 1


def test_a_wrong_bias_marks_its_neuron() -> None:
    report = load("failing")
    details = case(report, "nn::test_mlp_gradients[two-hidden-tanh]")["details"]
    details["first_param"] = 25
    page = case_page(report, "nn::test_mlp_gradients[two-hidden-tanh]")
    assert not page.find("line", "param-first") and len(page.find("circle", "first")) == 1
    assert "layer 2 neuron 2 b" in page.text("div", "first-param")


def test_training_cases_show_both_loss_curves_even_when_passing() -> None:
    report = load("failing")
    failing = case_page(report, "training::test_train_loss_history[first-dataset]")
    assert failing.find("polyline", "yours") and failing.find("polyline", "torch")
    assert "loss (log)" in failing.text("svg", "losses")
    assert "first difference: step 1" in failing.text("svg", "losses")
    assert "3 of your 40 losses are not numbers" in failing.text("p", "mute")
    passing = case_page(report, "training::test_train_loss_history[second-dataset]")
    assert passing.find("polyline", "yours") and passing.find("polyline", "torch")
    assert "first difference" not in passing.text("svg", "losses")
    assert passing.find("details", "case")[0][1].get("open") is not None


def test_a_passing_report_says_so_and_still_shows_training() -> None:
    report = load("failing")
    for section in report["sections"]:
        for t in section["tests"]:
            t.update(status="passed", feedback="", score=t["max_score"])
            if t["details"] and t["details"]["kind"] != "training":
                t["details"] = None
    report["root_causes"] = []
    page = Page(render(report))
    assert page.text(id="all-passed") == "Nothing: every case passed."
    assert len(page.find("svg", "losses")) == 2 and not page.find("svg", "graph")


def test_a_problem_with_the_submission_comes_first() -> None:
    report = load("failing")
    report["errors"] = [{"kind": "syntax", "message": "exercises/engine.py, line 3: bad indent"}]
    report["root_causes"] = [{**report["root_causes"][0], "task": "submission"}]
    page = Page(render(report))
    assert "line 3: bad indent" in page.text("ul", id="errors")
    assert not page.find(id="what-to-fix")
    assert "Every test is blocked by the problem above" in render(report)


def test_all_is_exactly_the_public_names() -> None:
    """The package shows `render` (and `unavailable`, the page for when it fails); its modules
    and their helpers stay behind it."""
    public = {
        name
        for name, value in vars(grader.html).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert sorted(grader.html.__all__) == sorted(public) == ["render", "unavailable"]


def test_render_is_pure() -> None:
    report = load("failing")
    before = copy.deepcopy(report)
    assert render(report) == render(report)
    assert report == before


def test_hostile_text_is_shown_not_obeyed() -> None:
    report = load("hostile")
    huge = "<b id='injected'>" + "\u202e\ud800\x1b[2J</script>]]>\n" * 60_000  # 1.3 MB
    report["submission"]["path"] = huge
    report["student_output"]["text"] = huge
    for section in report["sections"]:
        section["title"] = huge
        for t in section["tests"]:
            t["feedback"], t["name"] = huge, huge
            if t["details"] and t["details"].get("reproduce"):
                t["details"]["reproduce"] = huge
    report["root_causes"][0]["message"] = huge
    page = render(report)
    assert len(page.encode("utf-8")) < 400_000
    assert "\x1b" not in page and "\u202e" not in page and "</script>" not in page
    assert "]]>" not in page
    parsed = Page(page)
    assert_no_markup_from_the_report(parsed)
    assert len(parsed.find("details", "case")) == shown(report)
    assert len(parsed.find("ol", id="what-to-fix")) == 1
    assert "\\x1b[2J" in page and "\\u202e" in page and "&lt;/script&gt;" in page


def test_hostile_fixture_renders_to_well_formed_page() -> None:
    page = Page(render(load("hostile")))
    assert_no_markup_from_the_report(page)
    assert len(page.find("svg", "graph")) == 6 and len(page.find("svg", "losses")) == 2
    assert "<NoneType>" in page.text("div", "local")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["graph", "model", "training"]),
    changes=st.dictionaries(
        st.sampled_from(
            [
                "names",
                "leaves",
                "passes",
                "first_wrong",
                "local",
                "reproduce",
                "sizes",
                "outputs",
                "param_grads",
                "first_param",
                "param_names",
                "losses",
                "params",
                "activation",
            ]
        ),
        JSON,
        max_size=4,
    ),
)
def test_any_key_may_be_missing_short_or_odd(kind: str, changes: dict) -> None:
    report = load("failing")
    donor = next(
        t
        for s in report["sections"]
        for t in s["tests"]
        if (t["details"] or {}).get("kind") == kind
    )
    donor["details"].update(changes)
    page = Page(render(report))
    assert len(page.find("details", "case")) == shown(report)


@pytest.mark.parametrize(
    "value",
    [None, [], {}, "<NoneType>", [None], [{"op": 1}], 10**400],
    ids=["null", "list", "dict", "string", "null-list", "bad-node", "huge-int"],
)
def test_each_key_may_be_null_or_odd(value: object) -> None:
    report = load("failing")
    for section in report["sections"]:
        for t in section["tests"]:
            details = t["details"] or {}
            for key, kept in list(details.items()):
                details[key] = value
                render(report)
                details[key] = kept
            for key in ("data", "grad"):
                for spec in (t["details"] or {}).get("passes") or []:
                    spec[key] = {"got": value, "expected": [1.0]}
    render(report)
    report["sections"][0]["tests"][0] = {"id": None, "status": None}
    report["root_causes"][0] = {"task": None}
    render(report)


def chain_report(cases: int, nodes: int) -> dict:
    """Every case failing with a graph as large as the report may carry."""
    report = load("failing")
    details = {
        "kind": "graph",
        "names": ["x"] + [f"n{i}" for i in range(1, nodes)],
        "leaves": [0.5],
        "passes": [
            {
                "nodes": [{"op": "tanh", "args": [i]} for i in range(nodes - 1)],
                "root": nodes - 1,
                "data": {"got": [0.123456789] * nodes, "expected": [0.123456789] * nodes},
                "grad": {"got": [0.987654321] * nodes, "expected": [0.98765432] * nodes},
            }
        ],
        "first_wrong": {"pass": 0, "node": nodes - 1, "field": "grad"},
        "local": None,
        "reproduce": "\n".join(f"n{i} = n{i - 1}.tanh()" for i in range(1, nodes)),
    }
    template = case(report, "backward::test_tanh[0.5]")
    tests = [
        {**template, "id": f"backward::test_big[{i}]", "details": copy.deepcopy(details)}
        for i in range(cases)
    ]
    report["sections"] = [{**report["sections"][1], "tests": tests}]
    return report


def test_a_full_failing_report_stays_under_2_mb() -> None:
    page = render(chain_report(170, 300))
    assert len(page.encode("utf-8")) < 2_000_000
    drawn = page.count("<svg class='graph'")
    assert drawn == MAX_PAGE_NODES // 300
    assert page.count("python -m grader explain") == 170 - drawn


def test_layout_layers_by_longest_path_with_each_leaf_just_before_its_first_use() -> None:
    # a, b leaves; c = f(a); d = f(c); e = d + b: b sits next to d, not beside a.
    args = [(), (), (0,), (2,), (3, 1)]
    layer, position = layout(args)
    assert layer == [0, 2, 1, 2, 3]
    assert len({(layer[n], position[n]) for n in range(len(args))}) == len(args)
    chain = [(), *((i,) for i in range(9))]
    assert layout(chain) == (list(range(10)), [0] * 10)


def test_layout_orders_a_crossed_pair_without_crossing() -> None:
    # Leaves 0, 1; node 2 uses leaf 1, node 3 uses leaf 0: drawn in index order, they cross.
    layer, position = layout([(), (), (1,), (0,), (2, 3)])
    assert (position[2] < position[3]) == (position[1] < position[0])


def png_pixels(path: Path, right: int, bottom: int) -> tuple[int, int, list[bytes]]:
    """(width, height, rows) of an 8-bit RGB or RGBA PNG without interlace, decoded only up to
    column `right` and row `bottom` (enough for the pixels a test looks at)."""
    data = path.read_bytes()
    pos, idat, header = 8, b"", (0, 0, 0, 0)
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBB", data[pos + 8 : pos + 18])
        elif kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + size]
        pos += 12 + size
    width, height, depth, colour = header
    assert depth == 8 and colour in (2, 6), header
    step = 3 if colour == 2 else 4
    raw, stride, need = zlib.decompress(idat), width * step, (right + 1) * step
    prior, rows = bytearray(need), []
    for y in range(bottom + 1):  # undo each row's filter (PNG spec, section 9)
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + need])
        if kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prior, strict=True))
        for x in range(need) if kind in (1, 3, 4) else ():
            a, b = line[x - step] if x >= step else 0, prior[x]
            c = prior[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                paeth = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + paeth) & 255
        rows.append(bytes(line[x] for x in range(need) if x % step < 3))
        prior = line
    return width, height, rows


def pixel(rows: list[bytes], x: int, y: int) -> tuple[int, int, int]:
    return tuple(rows[y][3 * x : 3 * x + 3])  # type: ignore[return-value]


PROBE = """(() => {
const box = document.querySelector('.node.first rect').getBoundingClientRect();
return {
  dark: matchMedia('(prefers-color-scheme: dark)').matches,
  pageWidth: document.documentElement.scrollWidth, viewport: innerWidth,
  background: getComputedStyle(document.body).backgroundColor,
  firstStroke: getComputedStyle(document.querySelector('.node.first rect')).stroke,
  first: [box.left, box.top, box.width, box.height]};
})()"""
"""What the browser laid out, measured after the page has loaded (the page has no script)."""


def high(fd: int) -> int:
    """The same pipe end on a descriptor of 10 or more (the original is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class DevTools:
    """Chromium driven over --remote-debugging-pipe (the DevTools protocol: JSON messages ended
    by a NUL byte, requests on the browser's fd 3 and replies on its fd 4)."""

    def __init__(self, flags: list[str], profile: Path) -> None:
        to_browser, self.send_end = os.pipe()
        self.read_end, from_browser = os.pipe()
        # Above fd 4 first, so that placing one on fd 3 or 4 cannot overwrite the other.
        to_browser, from_browser = (high(fd) for fd in (to_browser, from_browser))
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{to_browser} 4>&{from_browser} {to_browser}<&- '
             f"{from_browser}>&-", "chromium", CHROMIUM,
             *flags, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_browser, from_browser), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        self.buffer, self.next_id, self.session = b"", 0, None
        self.deadline = time.monotonic() + 90

    def message(self) -> dict:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            assert select.select([self.read_end], [], [], max(left, 0))[0], "chromium: 90 s"
            chunk = os.read(self.read_end, 1 << 20)
            assert chunk, "chromium closed its DevTools pipe"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(line)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        request = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            request["sessionId"] = self.session
        os.write(self.send_end, json.dumps(request).encode() + b"\0")
        while (reply := self.message()).get("id") != self.next_id:
            pass  # an event: none is asked for
        assert "error" not in reply, (method, reply["error"])
        return reply["result"]

    def evaluate(self, expression: str):
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                          awaitPromise=True)  # fmt: skip
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")  # undefined has none

    def open(self, url: str, width: int) -> None:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        # The viewport itself is width x 900, as --screenshot's is (a window's includes its frame).
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip
        self.call("Page.navigate", url=url)
        loaded = f"document.readyState === 'complete' && location.href === {json.dumps(url)}"
        while not self.evaluate(loaded):
            time.sleep(0.02)

    def screenshot(self) -> bytes:
        """A screenshot of the viewport once two in a row are the same. Chromium may capture
        a frame whose tiles are not all rastered yet (issues.chromium.org/issues/405165895:
        part of the page blank under load); the page has no animation, so two equal frames
        are the finished page."""
        shots = [b""]
        for _ in range(10):
            self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
            shots.append(
                base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
            )
            if shots[-1] == shots[-2]:
                return shots[-1]
        raise AssertionError("chromium's screenshots did not settle in 10 frames")

    def close(self) -> None:
        """Ask the browser to quit (it may close the pipe before it replies), then make sure."""
        try:
            os.write(self.send_end, b'{"id": 0, "method": "Browser.close"}\0')
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.send_end)
            os.close(self.read_end)


def chromium(page: str, folder: Path, scheme: str, width: int, shoot: bool) -> tuple[Page, dict]:
    """Open a page in headless chromium; return its DOM after rendering and, for a page it
    shoots, what the probe measured (the screenshot goes to folder/page.png)."""
    folder.mkdir()
    path = folder / "page.html"
    path.write_text(page, "utf-8")
    flags = [*CHROMIUM_FLAGS, f"--blink-settings=preferredColorScheme={SCHEMES[scheme]}"]
    browser = DevTools(flags, folder / "profile")
    try:
        browser.open(path.as_uri(), width)
        dom = Page(browser.evaluate("document.documentElement.outerHTML"))
        probe = browser.evaluate(PROBE) if shoot else {}
        if shoot:
            (folder / "page.png").write_bytes(browser.screenshot())
    finally:
        browser.close()
    return dom, probe


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Page, dict, Path]]:
    """The one-bug page in light and dark at 1366 px, the full failing one at 1280 px and the
    hostile one: four chromium runs, two at a time."""
    folder = tmp_path_factory.mktemp("chromium")
    runs = {
        "light": (render(load("one_bug")), "light", 1366, True),
        "dark": (render(load("one_bug")), "dark", 1366, True),
        "narrow": (render(load("failing")), "light", 1280, True),
        "hostile": (render(load("hostile")), "dark", 1366, False),
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {k: pool.submit(chromium, *v[:1], folder / k, *v[1:]) for k, v in runs.items()}
        return {k: (*f.result(), folder / k / "page.png") for k, f in futures.items()}


@needs_chromium
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_in_chromium_the_page_shows_the_bug_in_both_schemes(browser, scheme: str) -> None:
    dom, probe, png = browser[scheme]
    assert probe["dark"] is (scheme == "dark")
    first = dom.find("g", "first")[0]  # the open case's; closed cases have theirs too
    assert probe["pageWidth"] <= probe["viewport"] == 1366
    colours = COLOURS[scheme]
    assert probe["background"] == "rgb({}, {}, {})".format(*colours["bg"])
    assert probe["firstStroke"] == "rgb({}, {}, {})".format(*colours["bad"])
    assert "n = s + b" in first[2] and "grad 0.4464 | torch 1" in first[2]
    assert dom.find("polyline", "yours") and dom.find("polyline", "torch")
    assert "Task 2.4, the backward rule of Value.tanh" in dom.text("ol", id="what-to-fix")
    left, top, _, tall = (int(v) for v in probe["first"])  # the box's edge: its stroke's middle
    width, height, rows = png_pixels(png, left, min(top + tall // 2, 899))
    assert (width, height) == (1366, 900)
    assert pixel(rows, 2, 2) == colours["bg"]
    assert top + tall < height, "the first wrong node is on the first screen"
    red = pixel(rows, left, top + tall // 2)
    assert all(abs(a - b) <= 40 for a, b in zip(red, colours["bad"], strict=True)), red
    if scheme == "light" and os.environ.get("SCRATCHGRAD_UPDATE_SCREENSHOT"):
        shutil.copyfile(png, SCREENSHOT)


@needs_chromium
def test_in_chromium_a_full_report_fits_1280_px(browser) -> None:
    dom, probe, _ = browser["narrow"]
    assert probe["pageWidth"] <= probe["viewport"] == 1280
    assert len(dom.find("svg", "graph")) == 6 and len(dom.find("svg", "losses")) == 2


@needs_chromium
def test_in_chromium_hostile_text_adds_no_element(browser) -> None:
    dom, _, _ = browser["hostile"]
    assert_no_markup_from_the_report(dom)
    assert len(dom.find("details", "case")) == shown(load("hostile"))
    assert len(dom.find("ol", id="what-to-fix")) == 1 and len(dom.find("li")) == 5 + 1


def test_the_committed_screenshot_is_a_page_at_laptop_width() -> None:
    width, height, rows = png_pixels(SCREENSHOT, 2, 2)
    assert (width, height) == (1366, 900)
    assert pixel(rows, 2, 2) == COLOURS["light"]["bg"]


@pytest.mark.parametrize(
    "losses",
    [
        [-1.5e308, 1.5e308, 0.5, 0.25],  # finite, but their difference is not
        [0.5, 5e-324, 0.25, 0.1],  # a log scale down to a subnormal
        [1e308, 1e300, 1e200, 0.5],  # a log scale up to 1e308
    ],
)
def test_losses_at_the_ends_of_the_floats_leave_gaps_not_a_crash(losses: list[float]) -> None:
    from grader.html.charts import curves

    drawn = curves({"got": losses, "expected": [0.5, 0.4, 0.3, 0.2]})
    assert "<polyline" in drawn and "too large or too small to draw" in drawn


def test_a_case_that_cannot_be_drawn_leaves_the_rest_of_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever a drawing raises on, the page keeps every other case and says so."""

    def broken(*args: object, **kwargs: object) -> str:
        raise OverflowError("math range error")

    monkeypatch.setattr("grader.html.page.curves", broken)
    report = {
        "score": 5,
        "max_score": 15,
        "sections": [
            {
                "id": "training",
                "title": "Training",
                "tests": [
                    {
                        "id": "training::a",
                        "name": "a",
                        "status": "failed",
                        "feedback": "lost",
                        "details": {
                            "kind": "training",
                            "losses": {"got": [1.0], "expected": [1.0]},
                        },
                    },
                ],
            }
        ],
    }
    page = render(report)
    assert "could not be drawn (OverflowError)" in page and "lost" in page
