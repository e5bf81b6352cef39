"""Who submitted each entry, from the names LMS downloads give files, and the grade files
each LMS imports. docs/batch.md cites the formats followed here.

- Canvas "Download Submissions": `lastfirst_12345_67890_hw.py`, `lastfirst_LATE_12345_...`
  (12345 the Canvas user id, 67890 the file's id; `anon_x1y2z` for anonymous grading).
- Moodle "Download all submissions": `Full Name_12345_assignsubmission_file_hw.py`, or a folder
  `Full Name_12345_assignsubmission_file_` (12345 the participant id of the grading worksheet).
- Gradescope "Export Submissions": folders `submission_12345` beside `submission_metadata.yml`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

METADATA = "submission_metadata.yml"
CANVAS = re.compile(
    r"^(?:(?P<name>.+?)_)??(?P<late>LATE_)?(?P<user>\d+|anon_[A-Za-z0-9]+)_(?P<file>\d+)_.+$"
)
MOODLE = re.compile(r"^(?P<name>[^_]+)_(?P<user>\d+)_assignsubmission_[a-z]+(?:_.*)?$")
GRADESCOPE = re.compile(r"^submission_\d+$")


@dataclass(frozen=True)
class Identity:
    """Who an entry belongs to, as far as its LMS download says; empty strings when unknown."""

    lms: str = ""
    """"canvas", "moodle", "gradescope" or "" (a name no LMS pattern matches)."""
    student: str = ""
    """Canvas: the lowercased "lastfirst"; Moodle: the full name; Gradescope: the submitters'
    names joined with "; "."""
    student_id: str = ""
    """Canvas: the user id; Moodle: the participant id; Gradescope: the submitters' SIDs."""
    email: str = ""
    """Gradescope only: the submitters' emails."""
    late: str = ""
    """Canvas only: "yes" for a file Canvas marked LATE, else "no"."""


def identify(name: str, gradescope: dict[str, list[dict[str, str]]]) -> Identity:
    """The identity an entry's name (or the Gradescope metadata) gives."""
    if GRADESCOPE.match(name) and name in gradescope:
        people = gradescope[name]
        return Identity(
            "gradescope",
            "; ".join(p.get("name", "") for p in people),
            "; ".join(p.get("sid", "") for p in people),
            "; ".join(p.get("email", "") for p in people),
        )
    if match := MOODLE.match(name):
        return Identity("moodle", match["name"], match["user"])
    if match := CANVAS.match(name):
        return Identity("canvas", match["name"] or "", match["user"], late=yesno(match["late"]))
    return Identity()


def yesno(flag: object) -> str:
    return "yes" if flag else "no"


def read_gradescope_metadata(folder: Path) -> dict[str, list[dict[str, str]]]:
    """`submission_metadata.yml` of a Gradescope export: submission folder -> submitters."""
    try:
        text = (folder / METADATA).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    return parse_gradescope_metadata(text)


def parse_gradescope_metadata(text: str) -> dict[str, list[dict[str, str]]]:
    """Read the subset of YAML that Gradescope writes, enough for `:submitters:`.

    Gradescope (Ruby's Psych) writes one mapping per submission at column 0, its keys at
    column 2 (`:submitters:`, `:created_at:`, `:score:`, `:results:` ...), and each submitter
    as `  - :name: ...` followed by `    :sid: ...` and `    :email: ...`. Anything deeper,
    block scalars included, is indented further and never matches these three patterns.
    """
    found: dict[str, list[dict[str, str]]] = {}
    current: list[dict[str, str]] = []
    submitters: list[dict[str, str]] | None = None
    for line in text.splitlines():
        if top := re.match(r"^([^\s#][^:]*):\s*$", line):
            current = found[_scalar(top[1])] = []
            submitters = None
        elif key := re.match(r"^  :(\w+):", line):
            submitters = current if key[1] == "submitters" else None
        elif submitters is not None and (item := re.match(r"^  - :(\w+):(.*)$", line)):
            submitters.append({item[1]: _scalar(item[2])})
        elif submitters and (field := re.match(r"^    :(\w+):(.*)$", line)):
            submitters[-1][field[1]] = _scalar(field[2])
    return found


def _scalar(raw: str) -> str:
    """A plain or quoted YAML scalar as text (`'it''s'`, `"\\u00e9"`, `123`, `~`)."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value[1:-1]
    return "" if value in ("~", "null") else value


def canvas_rows(rows: list[dict], assignment: str) -> list[list[str]]:
    """Canvas' gradebook import: header, "Points Possible", one row per student (best score)."""
    # Anonymous ids (anon_x1y2z) name no Canvas user: the import could not match them.
    best = [r for r in _best_per_student(rows, "canvas") if r["student_id"].isdigit()]
    maximum = max((r["max_score"] for r in best), default=0)
    return [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment],
        ["Points Possible", "", "", "", "", _number(maximum)],
        *([r["student"], r["student_id"], "", "", "", _number(r["score"])] for r in best),
    ]


def moodle_rows(rows: list[dict]) -> list[list[str]]:
    """Moodle's offline grading worksheet, with the columns its importer reads."""
    header = [
        "Identifier",
        "Full name",
        "Grade",
        "Maximum Grade",
        "Last modified (grade)",
        "Feedback comments",
    ]
    return [header] + [
        [
            f"Participant {r['student_id']}",
            r["student"],
            _number(r["score"]),
            _number(r["max_score"]),
            r["_report"]["started_at"],
            feedback(r["_report"]),
        ]
        for r in _best_per_student(rows, "moodle")
    ]


def feedback(report: dict) -> str:
    """A line for the student: the score and the tasks to fix, in the grader's own words only
    (no student text: Moodle shows feedback comments as HTML)."""
    tasks = [f"Task {c['task']}" for c in report["root_causes"] if c["task"] != "submission"]
    score = f"scratchgrad: {_number(report['score'])}/{_number(report['max_score'])}."
    return f"{score} To fix first: {', '.join(tasks[:5])}." if tasks else score


def _best_per_student(rows: list[dict], lms: str) -> list[dict]:
    """Graded rows of one LMS, one per student id: the highest score (the first on a tie)."""
    best: dict[str, dict] = {}
    for row in rows:
        if row["lms"] == lms and row["_report"] is not None:
            kept = best.get(row["student_id"])
            if kept is None or row["score"] > kept["score"]:
                best[row["student_id"]] = row
    return [best[key] for key in sorted(best)]


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else repr(value)
