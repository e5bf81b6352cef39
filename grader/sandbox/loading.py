"""Load the student's code inside the worker, and describe its exceptions as plain JSON.

The submission is imported once, on the first request: a package as `exercises`, a file as a
module, a notebook cell by cell (a cell that raises is noted, not fatal).
"""

from __future__ import annotations

import codeop
import gc
import importlib
import importlib.util
import json
import os
import re
import sys
import traceback

API_NAMES = ("Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train")


API_HOMES = {
    "Value": "engine",
    "Module": "nn",
    "Neuron": "nn",
    "Layer": "nn",
    "MLP": "nn",
    "mse_loss": "train",
    "train": "train",
}


TASK_ID = re.compile(r"Task (\d+\.\d+)")


MAX_MESSAGE = 500
MAX_CELL_ERRORS = 20
"""Failing notebook cells described one by one; the rest are counted."""
STDLIB_ONLY = (
    "your code runs with Python's standard library only (math, random, ...): remove this "
    "import, or, in a notebook, tag the cell skip-grading to keep it out of grading"
)


class Submission:
    """The student's code, imported once on first use; its names and any import problems."""

    def __init__(self, spec: dict) -> None:
        self.kind = spec["kind"]
        self.root = spec["root"]
        self.entry = spec["entry"]
        self.names: dict = {}
        self.loaded = False
        self.import_error: dict | None = None
        self.cell_errors: list[dict] = []
        self.cell_error_count = 0

    def load(self) -> dict:
        """Import the submission with the cyclic GC on, as Python and Jupyter run it."""
        if not self.loaded:
            self.loaded = True
            gc.enable()
            try:
                self.names = self._import()
            except BaseException as exc:
                self.import_error = describe(exc, self.root)
            finally:
                gc.collect()
        return {
            "names": sorted(self.names),
            "import_error": self.import_error,
            "cell_errors": self.cell_errors,
            "cell_error_count": self.cell_error_count,
        }

    def api(self, *needed: str):
        """The student's objects for `needed`, or an error naming what is missing."""
        self.load()
        if self.import_error is not None:
            raise Blocked(self.import_error)
        missing = [name for name in needed if name not in self.names]
        if missing:
            raise Blocked(
                {
                    "type": "MissingName",
                    "message": ", ".join(missing),
                    "file": None,
                    "line": None,
                    "code": None,
                    "task": None,
                }
            )
        return [self.names[name] for name in needed]

    def _import(self) -> dict:
        sys.path.insert(0, self.root)
        if self.kind == "package":
            return self._import_package()
        if self.kind == "module":
            module = _module_from_file("exercises", self.entry)
            return _public(module)
        return self._run_notebook()

    def _import_package(self) -> dict:
        package = importlib.import_module("exercises")
        names = _public(package)
        for name in API_NAMES:  # fall back on the contract's modules if __init__ is incomplete
            if name not in names:
                try:
                    module = importlib.import_module(f"exercises.{API_HOMES[name]}")
                except ImportError:
                    continue
                if hasattr(module, name):
                    names[name] = getattr(module, name)
        return names

    def _run_notebook(self) -> dict:
        """Run the cells in order in one module; a cell that raises is noted, not fatal."""
        with open(self.entry, encoding="utf-8") as f:
            cells = json.load(f)
        module = type(sys)("exercises")
        module.__file__ = self.entry
        sys.modules["exercises"] = module
        compiler = codeop.Compile()  # as in Jupyter: a cell's __future__ imports hold for the rest
        for cell in cells:
            try:
                code = compiler(cell["source"], cell["label"], "exec")
                exec(code, module.__dict__)
            except BaseException as exc:
                if isinstance(exc, SyntaxError) and _defines_api(cell["source"]):
                    raise
                self.cell_error_count += 1
                if len(self.cell_errors) < MAX_CELL_ERRORS:
                    self.cell_errors.append(describe(exc, self.root))
                del exc
                gc.collect()  # a cell that ran out of memory leaves its garbage behind
        return _public(module)


class Blocked(Exception):
    """A probe cannot run because the submission lacks what it needs."""

    def __init__(self, error: dict) -> None:
        super().__init__(error["message"])
        self.error = error


def _module_from_file(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {os.path.basename(path)} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _public(module) -> dict:
    return {name: getattr(module, name) for name in API_NAMES if hasattr(module, name)}


def _defines_api(source: str) -> bool:
    return any(re.search(rf"\b(class|def)\s+{name}\b", source) for name in API_NAMES)


def describe(exc: BaseException, root: str) -> dict:
    """Type, message and the student's own file:line for an exception, as plain JSON."""
    message = str(exc) if not isinstance(exc, SystemExit) else f"exit status {exc.code!r}"
    if isinstance(exc, SyntaxError):
        message = exc.msg  # the location is reported as file and line
    elif isinstance(exc, RecursionError):
        message = "maximum recursion depth exceeded"
    elif isinstance(exc, MemoryError):
        message = "out of memory: the grader limits how much memory your code may use"
    elif isinstance(exc, ModuleNotFoundError) and _third_party(exc.name, root):
        message = f"{message}: {STDLIB_ONLY}"
    file = line = code = None
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append(traceback.FrameSummary(exc.filename, exc.lineno or 0, "", line=exc.text))
    for frame in reversed(frames):
        where = _student_path(frame.filename, root)
        if where is not None:
            file, line, code = where, frame.lineno, (frame.line or "").strip() or None
            break
    task = TASK_ID.match(message) if isinstance(exc, NotImplementedError) else None
    return {
        "type": type(exc).__name__,
        "message": message[:MAX_MESSAGE],
        "file": file,
        "line": line,
        "code": code[:200] if code else None,
        "task": task.group(1) if task else None,
    }


def _third_party(name: str | None, root: str) -> bool:
    """A module that is neither in the standard library nor one of the submission's files."""
    if not name:
        return False
    top = name.partition(".")[0]
    mine = os.path.exists(os.path.join(root, top)) or os.path.exists(
        os.path.join(root, top + ".py")
    )
    return top not in sys.stdlib_module_names and top != "exercises" and not mine


def _student_path(filename: str, root: str) -> str | None:
    if filename.startswith("<cell "):
        return filename.strip("<>")
    path = os.path.abspath(filename)
    if path.startswith(root + os.sep):
        return os.path.relpath(path, root)
    return None
