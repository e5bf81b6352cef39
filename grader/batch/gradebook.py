"""The batch's records: results/<id>.json next to reports/<id>.json, the gradebook CSV and LMS
grade files rebuilt from them, and the class summary."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path

import grader
from grader.batch import lms
from grader.batch.entries import Entry
from grader.pipeline import SECTION_IDS
from grader.protocol import printable
from grader.report import write_text_atomic

RESULT_SCHEMA = 1
IDENTITY = tuple(f.name for f in fields(lms.Identity))
COLUMNS = ("id", *IDENTITY, "score", "max_score", *SECTION_IDS, "status", "duration_s")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What makes a spreadsheet read a cell as a formula (OWASP's CSV injection page)."""
MAX_STEM_BYTES = 200
"""Longest file name kept as is for results/ and reports/ (with room for suffixes)."""


def stem(name: str) -> str:
    """The file name of an entry's records: its own name unless that is too long for one."""
    if len(name.encode("utf-8", "surrogateescape")) <= MAX_STEM_BYTES:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore") + "-" + digest


def up_to_date(out: Path, entry: Entry) -> bool:
    result = read_json(out / "results" / f"{stem(entry.id)}.json")
    return (
        result is not None
        and result.get("entry_sha256") == entry.sha256
        and result.get("grader") == grader.__version__
        and (
            result["status"].startswith("error: refused")
            or result["status"] == "graded"
            and result["report"] is not None
            and (out / result["report"]).exists()
        )
    )


def record(out: Path, name: str, entry: Entry | None, outcome: dict, html: bool = False) -> None:
    """Report (and its page) first, result last: a result file means its report is whole."""
    report = outcome["report"]
    if report is not None:
        write_text_atomic(
            out / "reports" / f"{stem(name)}.json", json.dumps(report, indent=2) + "\n"
        )
        if html:
            from grader import html as pages

            try:
                page = pages.render(report)
            except Exception as exc:  # one entry's page must not stop the batch
                page = pages.unavailable(exc)
            write_text_atomic(out / "reports" / f"{stem(name)}.html", page)
    result = {
        "schema_version": RESULT_SCHEMA,
        "id": name,
        "entry_sha256": entry.sha256 if entry else None,
        "grader": grader.__version__,
        "status": outcome["status"],
        "duration_s": outcome["duration_s"],
        "report": f"reports/{stem(name)}.json" if report is not None else None,
    }
    write_text_atomic(out / "results" / f"{stem(name)}.json", json.dumps(result, indent=2) + "\n")


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def rebuild(out: Path, names: list[str], source: Path, canvas_assignment: str) -> list[dict]:
    """Rebuild gradebook.csv (and the LMS grade files) from results/ and reports/; return the
    rows with their reports."""
    gradescope = lms.read_gradescope_metadata(source)
    rows = []
    for name in names:
        result = read_json(out / "results" / f"{stem(name)}.json") or {
            "status": "error: not graded yet (interrupted?)",
            "duration_s": None,
            "report": None,
        }
        report = read_json(out / result["report"]) if result["report"] else None
        sections = {s["id"]: s["score"] for s in report["sections"]} if report else {}
        rows.append(
            {
                "id": name,
                **asdict(lms.identify(name, gradescope)),
                "score": report["score"] if report else None,
                "max_score": report["max_score"] if report else None,
                **{s: sections.get(s) for s in SECTION_IDS},
                "status": result["status"],
                "duration_s": result["duration_s"],
                "_report": report,
            }
        )
    write_csv(out / "gradebook.csv", [list(COLUMNS)] + [[r[c] for c in COLUMNS] for r in rows])
    if any(r["lms"] == "canvas" for r in rows):
        write_csv(out / "canvas_grades.csv", lms.canvas_rows(rows, canvas_assignment))
    if any(r["lms"] == "moodle" for r in rows):
        write_csv(out / "moodle_grades.csv", lms.moodle_rows(rows))
    return rows


def write_csv(path: Path, rows: list[list]) -> None:
    """A CSV that a spreadsheet opens safely: text cells that would start a formula are
    prefixed with a single quote; numbers stay numbers."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([[cell(v) for v in row] for row in rows])
    write_text_atomic(path, buffer.getvalue())


def cell(value: object) -> object:
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = value.encode("utf-8", "backslashreplace").decode()  # undecodable file names
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def summary(rows: list[dict], out: Path) -> str:
    """Mean, median, per-section means and the tests most submissions failed."""
    graded = [r for r in rows if r["_report"] is not None]
    lines = [
        f"Graded {len(graded)} of {len(rows)} submissions; "
        f"{len(rows) - len(graded)} could not be graded (see the status column)."
    ]
    if graded:
        scores = [r["score"] for r in graded]
        lines.append(
            f"Score: mean {statistics.mean(scores):.1f}, median "
            f"{statistics.median(scores):g} (of {graded[0]['max_score']:g})"
        )
        maxima = {s["id"]: s["max_score"] for r in graded for s in r["_report"]["sections"]}
        lines.append(
            "Per section (mean): "
            + ", ".join(
                f"{s} {statistics.mean(r[s] or 0 for r in graded):.1f}/{maxima[s]:g}"
                for s in SECTION_IDS
                if s in maxima
            )
        )
        failing = Counter(
            name
            for r in graded
            for name in {
                t["id"].split("[", 1)[0]
                for s in r["_report"]["sections"]
                for t in s["tests"]
                if t["status"] not in ("passed", "skipped")
            }
        )
        if failing:
            lines.append("Most common failing tests:")
            ranked = sorted(failing.items(), key=lambda item: (-item[1], item[0]))[:10]
            lines += [f"  {name}: failed by {n} of {len(graded)}" for name, n in ranked]
    unknown = [r["id"] for r in rows if r["status"].startswith("error") and r["_report"] is None]
    if unknown:
        shown = ", ".join(printable(name, 80) for name in unknown[:5])
        lines.append(f"Not graded: {shown}{' ...' if len(unknown) > 5 else ''}")
    lines.append(f"Gradebook: {printable(str(out / 'gradebook.csv'), 300)}")
    return "\n".join(lines)
