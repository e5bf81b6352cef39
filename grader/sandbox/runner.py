"""Probes that run inside the worker: build graphs and models through the public API only.

Every probe returns plain JSON (numbers, lists, error descriptions). It never sees expected
values, and it touches nothing but the names in docs/api.md: no `_prev`, no `_backward`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import random
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

    def load(self) -> dict:
        if not self.loaded:
            self.loaded = True
            try:
                self.names = self._import()
            except BaseException as exc:
                self.import_error = describe(exc, self.root)
        return {
            "names": sorted(self.names),
            "import_error": self.import_error,
            "cell_errors": self.cell_errors,
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
        for cell in cells:
            try:
                code = compile(cell["source"], cell["label"], "exec")
                exec(code, module.__dict__)
            except BaseException as exc:
                if isinstance(exc, SyntaxError) and _defines_api(cell["source"]):
                    raise
                self.cell_errors.append(describe(exc, self.root))
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


def _student_path(filename: str, root: str) -> str | None:
    if filename.startswith("<cell "):
        return filename.strip("<>")
    path = os.path.abspath(filename)
    if path.startswith(root + os.sep):
        return os.path.relpath(path, root)
    return None


# ---- graph probes -------------------------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
UNARY = {
    "neg": lambda a: -a,
    "tanh": lambda a: a.tanh(),
    "exp": lambda a: a.exp(),
    "relu": lambda a: a.relu(),
    "log": lambda a: a.log(),
}


def graph(submission: Submission, request: dict) -> dict:
    """Build each pass's nodes from the shared leaves, run backward, report every node."""
    (Value,) = submission.api("Value")
    leaves = [Value(x) for x in request["leaves"]]
    _check_values(Value, leaves, "Value(...)")
    passes = []
    for spec in request["passes"]:
        nodes = list(leaves)
        step = "forward"
        try:
            for index, (op, *args) in enumerate(spec["nodes"], start=len(leaves)):
                step = f"node {index}"
                nodes.append(_apply(Value, op, args, nodes))
            if spec["root"] is not None:
                step = "backward"
                nodes[spec["root"]].backward()
        except BaseException as exc:
            passes.append(
                {
                    "error": describe(exc, submission.root),
                    "step": step,
                    "data": _numbers(nodes, "data"),
                    "grad": None,
                }
            )
            break
        passes.append(
            {
                "error": None,
                "step": None,
                "data": _numbers(nodes, "data"),
                "grad": _numbers(nodes, "grad") if spec["root"] is not None else None,
            }
        )
    return {"passes": passes}


def _apply(Value, op: str, args: list, nodes: list):
    """`op` on node indices; a constant operand is given as {"const": x}, on either side."""
    operands = [arg["const"] if isinstance(arg, dict) else nodes[arg] for arg in args]
    if op in BINARY:
        out = BINARY[op](*operands)
    elif op == "pow":
        out = operands[0] ** args[1]["const"]
    else:
        out = UNARY[op](operands[0])
    _check_values(Value, [out], f"the {op} op")
    return out


def _check_values(Value, values, what: str) -> None:
    for value in values:
        if not isinstance(value, Value):
            raise TypeError(f"{what} returned {type(value).__name__}, not a Value")


def _numbers(values, attribute: str) -> list:
    return [_number(getattr(value, attribute)) for value in values]


def _number(x):
    """A float from a student's .data/.grad, or a string saying what it was instead."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return f"<{type(x).__name__}>"
    return float(x)


# ---- model probes -------------------------------------------------------------------------


def model(submission: Submission, request: dict) -> dict:
    """Build a Neuron, Layer or MLP, copy the given parameters in, then forward/backward/train."""
    Value, cls = submission.api("Value", request["kind"])
    random.seed(request["seed"])
    net = cls(*request["args"], **request["kwargs"])
    params = list(net.parameters())
    _check_values(Value, params, f"{request['kind']}.parameters()")
    reply: dict = {
        "param_count": len(params),
        "outputs": None,
        "output_shape": None,
        "grads": None,
        "input_grads": None,
        "losses": None,
        "params": None,
    }
    if request["params"] is None or len(params) != len(request["params"]):
        return reply
    for p, x in zip(params, request["params"], strict=True):
        p.data = x
    mode = request["mode"]
    if mode == "train":
        (train,) = submission.api("train")
        losses = train(net, request["inputs"], request["targets"], **request["train_kwargs"])
        reply["losses"] = [_number(x.data if isinstance(x, Value) else x) for x in losses]
        reply["params"] = _numbers(params, "data")
    inputs = [
        [Value(x) for x in row] if request["value_inputs"] else row for row in request["inputs"]
    ]
    outputs = [net(row) for row in inputs]
    reply["output_shape"] = ["value" if isinstance(out, Value) else "list" for out in outputs]
    flat = [o for out in outputs for o in ([out] if isinstance(out, Value) else out)]
    _check_values(Value, flat, f"calling the {request['kind']}")
    reply["outputs"] = _numbers(flat, "data")
    if mode in ("backward", "zero_grad"):
        total = flat[0]
        for out in flat[1:]:
            total = total + out
        total.backward()
        if mode == "zero_grad":
            net.zero_grad()
        reply["grads"] = _numbers(params, "grad")
        if request["value_inputs"]:
            reply["input_grads"] = [_numbers(row, "grad") for row in inputs]
    return reply


def neuron_parts(submission: Submission, request: dict) -> dict:
    """The data of a new Neuron's .w, .b and parameters(), for the harness to compare."""
    Value, Neuron = submission.api("Value", "Neuron")
    random.seed(request["seed"])
    neuron = Neuron(request["nin"])
    params = list(neuron.parameters())
    _check_values(Value, list(neuron.w) + [neuron.b] + params, "Neuron.w / Neuron.b")
    return {
        "w": _numbers(neuron.w, "data"),
        "b": _number(neuron.b.data),
        "params": _numbers(params, "data"),
    }


def mse(submission: Submission, request: dict) -> dict:
    """mse_loss on Value predictions (targets numbers or Values); its value and gradients."""
    Value, mse_loss = submission.api("Value", "mse_loss")
    preds = [Value(x) for x in request["predictions"]]
    targets = (
        [Value(y) for y in request["targets"]] if request["value_targets"] else request["targets"]
    )
    loss = mse_loss(preds, targets)
    _check_values(Value, [loss], "mse_loss")
    loss.backward()
    return {
        "loss": _number(loss.data),
        "grads": _numbers(preds, "grad"),
        "target_grads": _numbers(targets, "grad") if request["value_targets"] else None,
    }


def chain(submission: Submission, request: dict) -> dict:
    """A chain `n = n <op> leaf` over many leaves: deeper than any recursion limit."""
    (Value,) = submission.api("Value")
    leaves = [Value(x) for x in request["leaves"]]
    node = leaves[0]
    for leaf in leaves[1:]:
        node = node * leaf if request["op"] == "mul" else node + leaf
    _check_values(Value, [node], f"the {request['op']} op")
    node.backward()
    return {"root": _number(node.data), "grads": _numbers(leaves, "grad")}


PROBES = {"graph": graph, "chain": chain, "model": model, "neuron_parts": neuron_parts, "mse": mse}


def run(submission: Submission, request: dict) -> dict:
    """Dispatch one request; the submission's errors become part of the reply."""
    if request["probe"] == "load":
        return submission.load()
    try:
        return {"error": None, **PROBES[request["probe"]](submission, request)}
    except Blocked as blocked:
        return {"error": blocked.error, "where": "blocked"}
    except BaseException as exc:
        return {"error": describe(exc, submission.root), "where": request["probe"]}
