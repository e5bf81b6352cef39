"""The batch's records: results/<id>.json next to reports/<id>.json, the gradebook CSV rebuilt
from them, and the class summary."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from pathlib import Path

import grader
from grader.entries import Entry
from grader.pipeline import SECTION_IDS
from grader.report import write_text_atomic

RESULT_SCHEMA = 1


COLUMNS = ("id", "score", "max_score", *SECTION_IDS, "status", "duration_s")


def up_to_date(out: Path, entry: Entry) -> bool:
    result = read_json(out / "results" / f"{entry.id}.json")
    return (
        result is not None
        and result["entry_sha256"] == entry.sha256
        and result["grader"] == grader.__version__
        and (
            result["status"].startswith("error: refused")
            or result["status"] == "graded"
            and (out / "reports" / f"{entry.id}.json").exists()
        )
    )


def record(out: Path, name: str, entry: Entry | None, outcome: dict) -> None:
    """Report first, result last: a result file means its report is whole."""
    if outcome["report"] is not None:
        write_text_atomic(
            out / "reports" / f"{name}.json", json.dumps(outcome["report"], indent=2) + "\n"
        )
    result = {
        "schema_version": RESULT_SCHEMA,
        "id": name,
        "entry_sha256": entry.sha256 if entry else None,
        "grader": grader.__version__,
        "status": outcome["status"],
        "duration_s": outcome["duration_s"],
        "report": f"reports/{name}.json" if outcome["report"] is not None else None,
    }
    write_text_atomic(out / "results" / f"{name}.json", json.dumps(result, indent=2) + "\n")


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def gradebook(out: Path, names: list[str]) -> list[dict]:
    """Rebuild gradebook.csv from results/ and reports/; return its rows with their reports."""
    rows = []
    for name in names:
        result = read_json(out / "results" / f"{name}.json") or {
            "status": "error: not graded yet (interrupted?)",
            "duration_s": None,
            "report": None,
        }
        report = read_json(out / result["report"]) if result["report"] else None
        sections = {s["id"]: s["score"] for s in report["sections"]} if report else {}
        rows.append(
            {
                "id": name,
                "score": report["score"] if report else None,
                "max_score": report["max_score"] if report else None,
                **{s: sections.get(s) for s in SECTION_IDS},
                "status": result["status"],
                "duration_s": result["duration_s"],
                "_report": report,
            }
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "gradebook.csv", buffer.getvalue())
    return rows


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
            lines += [
                f"  {name}: failed by {n} of {len(graded)}" for name, n in failing.most_common(10)
            ]
    lines.append(f"Gradebook: {out / 'gradebook.csv'}")
    return "\n".join(lines)
