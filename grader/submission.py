"""Find the submission, decide its kind, fingerprint it, and stage a copy for the worker.

The harness reads the submission only as files and notebook JSON; it never imports it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tokenize
from dataclasses import dataclass
from pathlib import Path

SKIPPED_FOLDERS = {"__pycache__", ".git", ".ipynb_checkpoints", ".venv"}
MAX_BYTES = 20 * 1024 * 1024
"""Largest submission on disk (a notebook's outputs and a folder's data files count)."""
MAX_SOURCE_BYTES = 2 * 1024 * 1024
"""Largest amount of Python code in a submission: hundreds of times a real solution."""
SKIP_TAG = "skip-grading"
"""A notebook cell tagged so (or whose first line is `# skip-grading`) is not run."""
BODY_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
LINE_MAGIC = re.compile(r"^(\s*)(%|!|\?|[\w.\[\]]+\s*=\s*[%!])")
HELP_SUFFIX = re.compile(r"^\s*[\w.]+\?{1,2}\s*$")


class UsageError(Exception):
    """The grader was given something it cannot grade at all (exit status 2)."""


@dataclass(frozen=True)
class Submission:
    """One student submission, as found on disk."""

    path: Path
    """Where it was found (as given)."""
    kind: str
    """"package" (a folder), "module" (a .py file) or "notebook" (a .ipynb file)."""
    sha256: str
    """Fingerprint of its content (for a folder: every file's path and bytes)."""
    cells: tuple[dict, ...] = ()
    """For a notebook: each code cell's label and neutralised source, in order."""
    problem: str | None = None
    """Why the submission cannot run at all (unreadable notebook, no Python files), if so."""

    def stage(self, dest: Path) -> Path:
        """Copy the submission under `dest` as the worker will import it; return its root."""
        dest.mkdir(parents=True)
        if self.kind == "package":
            target = dest / "exercises"
            target.mkdir()
            for file in package_files(self.path):
                copy = target / file.relative_to(self.path)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, copy, follow_symlinks=False)
        elif self.kind == "module":
            shutil.copyfile(self.path, dest / self.path.name)
        else:
            (dest / "cells.json").write_text(json.dumps(list(self.cells)), encoding="utf-8")
        return dest

    def entry_in(self, root: Path) -> Path:
        """The file the worker starts from inside a staged copy."""
        if self.kind == "package":
            return root / "exercises" / "__init__.py"
        if self.kind == "module":
            return root / self.path.name
        return root / "cells.json"


def load(path: Path) -> Submission:
    """Read a submission from `path`, or raise UsageError with a sentence naming the fix."""
    if not path.exists():
        raise UsageError(
            f"No submission at {path}. Pass a path: python -m grader my_work.ipynb "
            "(a package folder, a .py file or a .ipynb notebook)."
        )
    if path.is_dir():
        return _package(path)
    if path.suffix == ".ipynb":
        return _notebook(path)
    if path.suffix == ".py":
        _check_size(path.stat().st_size, path)
        _check_source_size(path.stat().st_size, path)
        source = path.read_bytes()
        return Submission(
            path,
            "module",
            hashlib.sha256(source).hexdigest(),
            problem=_source_problem(path.name, source),
        )
    raise UsageError(
        f"{path} is not a folder, a .py file or a .ipynb notebook. "
        "Pass your package folder (e.g. ./exercises), your .py file or your notebook."
    )


def _package(path: Path) -> Submission:
    files = package_files(path)
    _check_size(sum(p.stat().st_size for p in files), path)
    if not any(p.suffix == ".py" for p in files):
        raise UsageError(
            f"The folder {path} holds no Python files. Pass the folder with your engine.py, "
            "nn.py and train.py, or your .py file or notebook: python -m grader my_work.ipynb"
        )
    _check_source_size(sum(p.stat().st_size for p in files if p.suffix == ".py"), path)
    digest = hashlib.sha256()
    problems = []
    for file in files:
        content = file.read_bytes()
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(content + b"\0")
        if file.suffix == ".py":
            problems.append(_source_problem(file.relative_to(path).as_posix(), content))
    links = sorted(p.relative_to(path).as_posix() for p in _walk(path) if p.is_symlink())
    if links:
        problems.append(
            f"The grader does not follow links: {', '.join(links[:5])} "
            f"{'is a link' if len(links) == 1 else 'are links'}; copy the files "
            "themselves into your folder."
        )
    problem = " ".join(p for p in problems if p) or None
    return Submission(path, "package", digest.hexdigest(), problem=problem)


def package_files(root: Path) -> list[Path]:
    """The regular files of a package folder, without caches and without following links."""
    return sorted(
        p for p in _walk(root) if not p.is_symlink() and p.is_file() and p.suffix != ".pyc"
    )


MAX_ENTRIES = 2000
"""Files and folders a package folder may hold (the worker gets a copy of them)."""
MAX_DEPTH = 40
"""How deeply its folders may nest."""


def _walk(root: Path) -> list[Path]:
    """Every file and folder below `root` (not into caches, not through links), breadth first
    and without recursion; a tree beyond MAX_ENTRIES or MAX_DEPTH is a usage error."""
    found: list[Path] = []
    level = [root]
    for _ in range(MAX_DEPTH + 1):
        below = []
        for folder in level:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
            for entry in entries:
                folder_below = entry.is_dir(follow_symlinks=False)
                if folder_below and entry.name in SKIPPED_FOLDERS:
                    continue
                found.append(Path(entry.path))
                if len(found) > MAX_ENTRIES:
                    raise UsageError(
                        f"{root} holds more than {MAX_ENTRIES} files and folders; a submission "
                        "holds your code: remove data, outputs and environments (venv) from it."
                    )
                if folder_below:
                    below.append(Path(entry.path))
        if not below:
            return found
        level = below
    raise UsageError(
        f"{root} has folders nested more than {MAX_DEPTH} deep; a submission holds your code: "
        "pass the folder with your engine.py, nn.py and train.py."
    )


def _source_problem(name: str, source: bytes) -> str | None:
    """Why `source` is not text that Python reads reliably, in a sentence naming the fix."""
    if b"\0" in source:
        return (
            f"{name} is not a text file (it holds NUL bytes, like a binary or UTF-16 file): "
            "save your code as plain UTF-8 text."
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:  # no usable coding declaration: Python falls back on UTF-8 too
        encoding = "utf-8"
    try:
        source.decode(encoding)
    except UnicodeDecodeError as exc:
        line = source[: exc.start].count(b"\n") + 1
        return (
            f"{name} line {line} is not valid {encoding.upper()} text (byte "
            f"0x{source[exc.start]:02x}): save the file as UTF-8 text."
        )
    return None


def _notebook(path: Path) -> Submission:
    import nbformat

    raw = path.read_bytes()
    _check_size(len(raw), path)
    sha = hashlib.sha256(raw).hexdigest()
    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises many kinds for broken JSON
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Submission(
            path,
            "notebook",
            sha,
            problem=(
                f"The notebook {path.name} could not be read ({reason[:200]}). Open it in "
                "Jupyter, save it again, and check that it is a .ipynb file."
            ),
        )
    cells = []
    for number, cell in enumerate(notebook.cells, start=1):
        source = _text(cell.get("source"))
        if cell.get("cell_type") == "code" and not _skipped(cell, source):
            cells.append({"label": f"<cell {number} of {path.name}>", "source": source})
    _check_source_size(sum(len(c["source"].encode("utf-8")) for c in cells), path)
    for cell in cells:
        cell["source"] = neutralise(cell["source"])
    problem = None if cells else f"The notebook {path.name} has no code cells."
    return Submission(path, "notebook", sha, cells=tuple(cells), problem=problem)


def _skipped(cell: dict, source: str) -> bool:
    """A demo cell the student keeps out of grading: tagged skip-grading, or so commented."""
    tags = (cell.get("metadata") or {}).get("tags") or []
    first = source.lstrip().split("\n", 1)[0].strip().lower()
    return (isinstance(tags, list) and SKIP_TAG in tags) or first in (
        f"# {SKIP_TAG}",
        f"#{SKIP_TAG}",
    )


def _text(source: object) -> str:
    """A cell's source as one string (nbformat joins lists, but does not reject other types)."""
    if isinstance(source, list):
        return "".join(map(str, source))
    return source if isinstance(source, str) else ""


def neutralise(source: str) -> str:
    """Turn IPython-only lines (magics, shell escapes, help) into `pass`, keeping line numbers."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)[0] if lines[0].strip() != "%%" else ""
        keep_body = magic in BODY_CELL_MAGICS
        return "\n".join(
            ["pass  # IPython cell magic"]
            + (lines[1:] if keep_body else ["pass" for _ in lines[1:]])
        )
    out = []
    state = _LogicalLine()
    for line in lines:
        if state.starts_here() and (LINE_MAGIC.match(line) or HELP_SUFFIX.match(line)):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass  # IPython: {line.strip()[:60]}")
        else:
            state.read(line)
            out.append(line)
    return "\n".join(out)


class _LogicalLine:
    """Where Python's logical lines start: IPython looks for magics there only, not on the
    continuation lines of an open bracket, a string or a trailing backslash."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None
        self.backslash = False

    def starts_here(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.backslash

    def read(self, line: str) -> None:
        """Follow brackets, strings and a trailing backslash through one line of code."""
        i, comment = 0, False
        while i < len(line):
            char = line[i]
            if self.quote is not None:
                closes = line.startswith(self.quote, i)
                i += 2 if char == "\\" else len(self.quote) if closes else 1
                self.quote = None if closes and char != "\\" else self.quote
            elif char == "#":
                comment = True
                break
            elif char in "'\"":
                self.quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else char
                i += len(self.quote)
            else:
                if char in "([{":
                    self.depth += 1
                elif char in ")]}" and self.depth > 0:
                    self.depth -= 1
                i += 1
        self.backslash = line.endswith("\\") and not comment
        if self.quote in ("'", '"') and not self.backslash:
            self.quote = None  # unterminated on its line: Python reports the syntax error


def _check_source_size(size: int, path: Path) -> None:
    if size > MAX_SOURCE_BYTES:
        raise UsageError(
            f"{path} holds {size / 2**20:.1f} MB of Python code; a submission may hold at most "
            f"{MAX_SOURCE_BYTES // 2**20} MB. Remove generated or pasted data from your code."
        )


def _check_size(size: int, path: Path) -> None:
    if size > MAX_BYTES:
        raise UsageError(
            f"{path} is {size // 1024 // 1024} MB; a submission may be at most "
            f"{MAX_BYTES // 1024 // 1024} MB. Remove data files and outputs and try again."
        )
