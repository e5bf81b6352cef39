"""The oracle: PyTorch (float64) runs every probe to give the expected numbers.

This is the only module that imports torch, and only when an expectation is not known yet.
Expectations depend on the probe alone, so they are data, looked up by a hash of the probe in:

1. the expectations shipped in the package (grader/expected_values.json: every probe of the
   public suites, written by `python -m grader expectations`; a test fails when they drift);
2. expectation files given with `--expectations DIR` (the course's autograder precomputes
   the hidden tests' there, with the secret seed);
3. the user's cache folder (not for hidden tests: their answers must not leave the grader);
4. torch, whose answer then goes to the cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import threading
import warnings
from pathlib import Path

from grader.probes import Chain, Graph, Model, Mse
from grader.protocol import ChainResult, ModelResult, MseResult, PassResult, parse
from grader.report import write_text_atomic

EXPECTATIONS_SCHEMA = 2
"""Bumped when a probe's torch implementation changes: every key changes with it."""
SHIPPED = Path(__file__).with_name("expected_values.json")
EXPECTATIONS_FILE = "expectations.json"
"""The file `python -m grader expectations --out DIR` writes, and `--expectations DIR` reads."""


def default_cache_dir() -> Path:
    """$SCRATCHGRAD_CACHE, else the user cache folder (XDG on Linux, ~/Library/Caches, ...)."""
    if os.environ.get("SCRATCHGRAD_CACHE"):
        return Path(os.environ["SCRATCHGRAD_CACHE"])
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "scratchgrad" / "oracle"


class TorchMissing(Exception):
    """An expectation that is not known and cannot be computed: torch is not installed."""


class Oracle:
    """Expected results for probes: known ones from the expectation files and the cache,
    others from torch."""

    def __init__(
        self,
        cache_dir: Path | None,
        expectations: tuple[Path, ...] = (),
        shipped: bool = True,
        record: dict | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.sources = ((SHIPPED,) if shipped else ()) + tuple(
            p / EXPECTATIONS_FILE if p.is_dir() else p for p in expectations
        )
        self.record = record
        """When given, every expectation used is put here by key (for `expectations`)."""
        self.computed = 0
        self.cached = 0
        self._known: dict[str, dict] | None = None
        self._torch_thread: threading.Thread | None = None

    def graph(self, graph: Graph) -> list[PassResult]:
        return parse("graph", self._expect(graph.request(), _graph), graph.expect())

    def model(self, model: Model) -> ModelResult:
        count = param_count(model.kind, list(model.args), model.kwargs)
        return parse("model", self._expect(model.request(), _model), model.expect(count))

    def chain(self, chain: Chain) -> ChainResult:
        return parse("chain", self._expect(chain.request(), _chain))

    def mse(self, mse: Mse) -> MseResult:
        return parse("mse", self._expect(mse.request(), _mse))

    def prefetch_torch(self) -> None:
        """Start importing torch in a thread, to overlap it with the worker's work."""
        if self._torch_thread is None and installed_torch_version() is not None:
            self._torch_thread = threading.Thread(target=_import_torch, daemon=True)
            self._torch_thread.start()

    def _expect(self, request: dict, compute) -> dict:
        key = expectation_key(request)
        value = self._lookup(key)
        if value is None:
            path = None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"
            value = _read_entry(path, key) if path is not None else None
            if value is not None:
                self.cached += 1
            else:
                self.computed += 1
                value = compute(self._torch(), request)
                if path is not None:
                    _write_entry(path, key, value)
        if self.record is not None:
            self.record[key] = value
        return value

    def _lookup(self, key: str) -> dict | None:
        if self._known is None:
            self._known = {}
            for source in self.sources:
                self._known.update(read_expectations(source))
        return self._known.get(key)

    def _torch(self):
        if installed_torch_version() is None:
            raise TorchMissing(
                "an expected value is neither shipped with the grader nor cached, and torch "
                "is not installed to compute it (instructors: pip install 'scratchgrad[oracle]')"
            )
        if self._torch_thread is not None:
            self._torch_thread.join()
        return _import_torch()


def _import_torch():
    with warnings.catch_warnings():
        # torch warns when NumPy is missing; the grader does not need NumPy.
        warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
        import torch
    torch.set_default_dtype(torch.float64)
    return torch


def expectation_key(request: dict) -> str:
    text = json.dumps([EXPECTATIONS_SCHEMA, request], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def read_expectations(path: Path) -> dict[str, dict]:
    """An expectations file's entries by key; {} when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=float)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema_version") != EXPECTATIONS_SCHEMA:
        return {}
    entries = data.get("expectations")
    return entries if isinstance(entries, dict) else {}


def write_expectations(path: Path, entries: dict[str, dict], torch_version: str | None) -> None:
    """One entry per line, sorted by key: small diffs when the suites change."""
    lines = [
        f"{json.dumps(key)}: {json.dumps(entries[key], separators=(',', ':'))}"
        for key in sorted(entries)
    ]
    head = {"schema_version": EXPECTATIONS_SCHEMA, "torch": torch_version}
    text = json.dumps(head)[:-1] + ', "expectations": {\n' + ",\n".join(lines) + "\n}}\n"
    write_text_atomic(path, text)


@functools.cache
def installed_torch_version() -> str | None:
    """The installed torch, read from its torch/version.py (no import of torch, nor of the
    slower importlib.metadata), or None."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        try:
            text = (Path(folder) / "version.py").read_text(encoding="utf-8")
        except OSError:
            continue
        found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        if found:
            return found.group(1)
    return None


def _read_entry(path: Path, key: str) -> dict | None:
    """A cached expectation, or None when missing or corrupt (then it is recomputed)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"), parse_constant=float)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(entry, dict)
        or entry.get("key") != key
        or entry.get("schema_version") != EXPECTATIONS_SCHEMA
        or not isinstance(entry.get("value"), dict)
    ):
        return None
    return entry["value"]


def _write_entry(path: Path, key: str, value: dict) -> None:
    """Write atomically: concurrent graders either see the whole entry or none of it."""
    entry = {"schema_version": EXPECTATIONS_SCHEMA, "key": key, "value": value}
    with contextlib.suppress(OSError):  # a read-only or full disk only costs speed
        write_text_atomic(path, json.dumps(entry))


# ---- torch implementations of the probes ---------------------------------------------------


def _graph(torch, request: dict) -> dict:
    leaves = [torch.tensor(float(x), requires_grad=True) for x in request["leaves"]]
    passes = []
    for spec in request["passes"]:
        nodes = list(leaves)
        for op, *args in spec["nodes"]:
            nodes.append(_apply(torch, op, args, nodes))
            nodes[-1].retain_grad()
        root = spec["root"]
        if root is not None:
            nodes[root].backward()
        grads = None if root is None else [0.0 if n.grad is None else n.grad.item() for n in nodes]
        report = request["report"]
        shown = range(len(nodes)) if report is None else report
        passes.append(
            {
                "error": None,
                "step": None,
                "data": [nodes[i].item() for i in shown],
                "grad": None if grads is None else [grads[i] for i in shown],
                "grad_sum": None if grads is None else sum(grads),
            }
        )
    return {"passes": passes}


def _apply(torch, op: str, args: list, nodes: list):
    a, b = ([arg["const"] if isinstance(arg, dict) else nodes[arg] for arg in args] + [None])[:2]
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / b
    if op == "pow":
        return a**b
    if op == "neg":
        return -a
    return {"tanh": torch.tanh, "exp": torch.exp, "relu": torch.relu, "log": torch.log}[op](a)


ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "linear": None}


def layer_shapes(kind: str, args: list, kwargs: dict) -> list[tuple[int, int, str]]:
    """(nin, nout, activation) of each layer of a Neuron, Layer or MLP, as the contract says."""
    if kind == "Neuron":
        return [(args[0], 1, kwargs.get("activation", "tanh"))]
    if kind == "Layer":
        return [(args[0], args[1], kwargs.get("activation", "tanh"))]
    nin, nouts = args
    sizes = [nin] + list(nouts)
    return [
        (
            sizes[i],
            sizes[i + 1],
            kwargs.get("output_activation", "tanh")
            if i == len(nouts) - 1
            else kwargs.get("activation", "tanh"),
        )
        for i in range(len(nouts))
    ]


def param_count(kind: str, args: list, kwargs: dict) -> int:
    return sum(nout * (nin + 1) for nin, nout, _ in layer_shapes(kind, args, kwargs))


def _model(torch, request: dict) -> dict:
    kind, args, kwargs = request["kind"], request["args"], request["kwargs"]
    shapes = layer_shapes(kind, args, kwargs)
    flat = torch.tensor(request["params"])
    layers, offset = [], 0
    for nin, nout, activation in shapes:
        block = flat[offset : offset + nout * (nin + 1)].reshape(nout, nin + 1)
        offset += nout * (nin + 1)
        weight = block[:, :nin].clone().requires_grad_(True)
        bias = block[:, nin].clone().requires_grad_(True)
        layers.append((weight, bias, activation))

    def forward(x):
        for weight, bias, activation in layers:
            x = weight @ x + bias
            if activation != "linear":
                x = getattr(torch, activation)(x)
        return x

    def parameters():
        return [t for weight, bias, _ in layers for t in (weight, bias)]

    def flat_params(attr: str) -> list[float]:
        out = []
        for weight, bias, _ in layers:
            w = weight if attr == "data" else weight.grad
            b = bias if attr == "data" else bias.grad
            for j in range(weight.shape[0]):
                out += [*w[j].tolist(), b[j].item()]
        return out

    count = param_count(kind, args, kwargs)
    reply: dict[str, object] = {
        "error": None,
        "param_count": count,
        "outputs": None,
        "output_shape": None,
        "grads": None,
        "input_grads": None,
        "losses": None,
        "params": None,
    }
    mode = request["mode"]
    if mode == "train":
        xs = torch.tensor(request["inputs"])
        ys = torch.tensor(request["targets"])
        losses = []
        for _ in range(request["train_kwargs"]["steps"]):
            preds = torch.stack([forward(x).reshape(-1)[0] for x in xs])
            loss = ((preds - ys) ** 2).mean()
            for p in parameters():
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in parameters():
                    p -= request["train_kwargs"]["lr"] * p.grad
            losses.append(loss.item())
        reply["losses"] = losses
        reply["params"] = flat_params("data")
    inputs = [
        torch.tensor([float(v) for v in row], requires_grad=True) for row in request["inputs"]
    ]
    outputs = [forward(x) for x in inputs]
    single = shapes[-1][1] == 1
    reply["output_shape"] = ["value" if single else "list"] * len(outputs)
    reply["outputs"] = [v for out in outputs for v in out.tolist()]
    if mode in ("backward", "zero_grad"):
        for p in parameters():
            p.grad = None
        torch.stack([o.sum() for o in outputs]).sum().backward()
        reply["grads"] = flat_params("grad") if mode == "backward" else [0.0] * count
        if request["value_inputs"]:
            reply["input_grads"] = [x.grad.tolist() for x in inputs]
    return reply


def _chain(torch, request: dict) -> dict:
    """The same chain as one cumulative sum: torch's own graph of 100,000 nodes takes seconds."""
    leaves = torch.tensor(request["leaves"], requires_grad=True)
    root = torch.cumsum(leaves, dim=0)[-1]
    root.backward()
    return {"error": None, "root": root.item(), "grads": leaves.grad.tolist()}


def _mse(torch, request: dict) -> dict:
    preds = torch.tensor([float(p) for p in request["predictions"]], requires_grad=True)
    targets = torch.tensor(
        [float(t) for t in request["targets"]], requires_grad=request["value_targets"]
    )
    loss = ((preds - targets) ** 2).mean()
    loss.backward()
    return {
        "error": None,
        "loss": loss.item(),
        "grads": preds.grad.tolist(),
        "target_grads": targets.grad.tolist() if request["value_targets"] else None,
    }
