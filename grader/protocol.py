"""The worker boundary: every message the worker sends, declared once and checked here.

The worker runs student code, so everything it sends is untrusted: a submission can patch the
worker's own `json.dumps`. Each reply is checked against the shape declared in REPLIES (types,
number ranges, list lengths, text lengths; text made printable) before anything else reads it,
then turned into the frozen dataclasses below. A reply that does not fit is a `ProtocolError`:
the submission's failure, never the grader's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "API_NAMES",
    "ChainResult",
    "Hello",
    "Load",
    "ModelResult",
    "MseResult",
    "Number",
    "PassResult",
    "ProtocolError",
    "StudentError",
    "SubmissionError",
    "TrainCheck",
    "decode",
    "parse",
    "printable",
]

API_NAMES = ("Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train")
MAX_CELL_ERRORS = 20
"""A notebook's failing cells reported one by one; the rest are only counted."""
MAX_ITEMS = 200_001
"""Longest list in any reply (the 100,000-op chain has 100,001 leaves)."""

Number = float | str
"""A parsed number, or a short description of what the submission gave instead (`<NoneType>`)."""


class ProtocolError(Exception):
    """A worker message that is not what the harness asked for; the worker is replaced."""


# ---- the declared shapes -------------------------------------------------------------------


class Shape:
    """A declared shape: `check(value, where)` returns the value cleaned, or raises."""

    def check(self, value: object, where: str) -> Any:
        raise NotImplementedError


def _fail(where: str, what: str) -> ProtocolError:
    return ProtocolError(f"{where} {what}")


class Num(Shape):
    """A number as a float (ints must fit one), or a description string of at most 40 chars."""

    def check(self, value, where):
        if type(value) is float:
            return value
        if isinstance(value, bool):
            return "<bool>"
        if isinstance(value, int):
            if abs(value) > 1.7e308:
                raise _fail(where, "is a number too large for a float")
            return float(value)
        if isinstance(value, str):
            return printable(value, 40)
        raise _fail(where, "is neither a number nor a description")


class Int(Shape):
    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def check(self, value, where):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(where, "is not an integer")
        if not self.low <= value <= self.high:
            raise _fail(where, f"is outside {self.low}..{self.high}")
        return value


class Text(Shape):
    """A string, cut to `limit` characters and made printable."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def check(self, value, where):
        if not isinstance(value, str):
            raise _fail(where, "is not text")
        return printable(value, self.limit)


class OneOf(Shape):
    def __init__(self, *choices: object) -> None:
        self.choices = choices

    def check(self, value, where):
        if isinstance(value, (bool, str)) and value in self.choices:
            return value
        raise _fail(where, f"is not one of {', '.join(map(str, self.choices))}")


class Optional(Shape):
    def __init__(self, inner: Shape) -> None:
        self.inner = inner

    def check(self, value, where):
        return None if value is None else self.inner.check(value, where)


class List(Shape):
    def __init__(self, item: Shape, limit: int = MAX_ITEMS) -> None:
        self.item, self.limit = item, limit

    def check(self, value, where):
        if not isinstance(value, list):
            raise _fail(where, "is not a list")
        if len(value) > self.limit:
            raise _fail(where, f"holds {len(value)} items, more than {self.limit}")
        if isinstance(self.item, Num) and all(type(x) is float for x in value):
            return tuple(value)  # the common case, in one pass
        return tuple(self.item.check(x, f"{where}[{i}]") for i, x in enumerate(value))


class Map(Shape):
    """An object of names (text) to values of one shape, at most `limit` of them."""

    def __init__(self, value: Shape, limit: int) -> None:
        self.value, self.limit = value, limit

    def check(self, value, where):
        if not isinstance(value, dict) or len(value) > self.limit:
            raise _fail(where, f"is not an object of at most {self.limit} names")
        return {
            printable(k, 40): self.value.check(v, f"{where}.{printable(k, 40)}")
            for k, v in value.items()
        }


class Obj(Shape):
    """A JSON object with exactly these keys (`seq` aside); missing keys are errors."""

    def __init__(self, **fields: Shape) -> None:
        self.fields = fields

    def check(self, value, where):
        if not isinstance(value, dict):
            raise _fail(where, "is not an object")
        missing = [key for key in self.fields if key not in value]
        if missing:
            raise _fail(where, f"has no {', '.join(missing)}")
        return {
            key: shape.check(value[key], f"{where}.{key}") for key, shape in self.fields.items()
        }


NUM = Num()
NUMS = List(NUM)
TASK_ID = re.compile(r"\d{1,2}\.\d{1,2}")
ERROR = Obj(
    type=Text(100),
    message=Text(500),
    file=Optional(Text(200)),
    line=Optional(Int(0, 10**9)),
    code=Optional(Text(200)),
    task=Optional(Text(5)),
)
GRAPH = Obj(
    passes=List(
        Obj(
            error=Optional(ERROR),
            step=Optional(Text(40)),
            data=NUMS,
            grad=Optional(NUMS),
            grad_sum=Optional(NUM),
        ),
        64,
    ),
)
REPLIES: dict[str, Shape] = {
    "hello": Obj(ready=OneOf(True), limits=Map(OneOf(True, False), 64)),
    "load": Obj(
        names=List(OneOf(*API_NAMES), len(API_NAMES)),
        import_error=Optional(ERROR),
        cell_errors=List(ERROR, MAX_CELL_ERRORS),
        cell_error_count=Int(0, 10**9),
    ),
    "error": Obj(error=ERROR, where=Text(40)),
    "graph": GRAPH,
    "release": GRAPH,
    "hold": Obj(held=Int(0, 10**7)),
    "chain": Obj(root=NUM, grads=NUMS),
    "model": Obj(
        param_count=Int(0, 10**6),
        outputs=Optional(NUMS),
        output_shape=Optional(List(OneOf("value", "list"), 64)),
        grads=Optional(NUMS),
        input_grads=Optional(List(NUMS, 64)),
        losses=Optional(NUMS),
        params=Optional(NUMS),
    ),
    "neuron_parts": Obj(w=List(NUM, 10_000), b=NUM, params=List(NUM, 10_000)),
    "parameters": Obj(params=List(NUM, 10**6)),
    "mse": Obj(loss=NUM, grads=NUMS, target_grads=Optional(NUMS)),
    "train_check": Obj(
        param_count=Int(0, 10**6),
        manual_losses=Optional(NUMS),
        manual_params=Optional(NUMS),
        losses=Optional(NUMS),
        params=Optional(NUMS),
    ),
}
"""Every reply, by the probe it answers. An `error` reply may answer any probe but `load`."""
REPLY_BYTES = {"hello": 64 * 1024, "load": 256 * 1024, "chain": 16 * 1024 * 1024}
"""Longest reply line per probe; others get the worker's `reply_mb`."""


# ---- validated values ----------------------------------------------------------------------


@dataclass(frozen=True)
class StudentError:
    """An exception raised by the submission, as the worker described it."""

    type: str
    """Exception class name."""
    message: str
    """Its message (at most 500 characters, printable)."""
    file: str | None
    """The student's file (or notebook cell) where it was raised, if it was theirs."""
    line: int | None
    """Line number in that file."""
    code: str | None
    """The source line."""
    task: str | None
    """The task id of a stub's NotImplementedError ("2.4")."""

    def __str__(self) -> str:
        where = f" at {self.file}:{self.line}" if self.file else ""
        code = f" (`{self.code}`)" if self.code else ""
        return f"{self.type}{where}{code}: {self.message}"


class SubmissionError(Exception):
    """The submission raised, was missing something, or could not be imported."""

    def __init__(self, error: StudentError, step: str, blocked: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.step = step
        """Where: a probe name, "node 4", "backward", "import" or "blocked"."""
        self.blocked = blocked


@dataclass(frozen=True)
class Hello:
    """The worker's first message: which limits it could put in force."""

    limits: dict[str, bool]


@dataclass(frozen=True)
class Load:
    """What importing the submission gave."""

    names: frozenset[str]
    """Which of the API names it defines."""
    import_error: StudentError | None
    cell_errors: tuple[StudentError, ...]
    """A notebook's cells that raised (the first MAX_CELL_ERRORS)."""
    cell_error_count: int


@dataclass(frozen=True)
class PassResult:
    """The reported nodes' data and (after backward) grad, in the order asked for."""

    data: tuple[Number, ...]
    grad: tuple[Number, ...] | None
    grad_sum: Number | None = None
    """The sum of every node's grad, where the probe asked for it (all grads read)."""


@dataclass(frozen=True)
class ModelResult:
    """What a Neuron/Layer/MLP probe measured; None where the mode did not ask for it."""

    param_count: int
    outputs: tuple[Number, ...] | None = None
    output_shape: tuple[str, ...] | None = None
    grads: tuple[Number, ...] | None = None
    input_grads: tuple[tuple[Number, ...], ...] | None = None
    losses: tuple[Number, ...] | None = None
    params: tuple[Number, ...] | None = None


@dataclass(frozen=True)
class ChainResult:
    """The chain's end value and every leaf's grad."""

    root: Number
    grads: tuple[Number, ...]


@dataclass(frozen=True)
class MseResult:
    """mse_loss's value and the gradients of predictions (and of Value targets)."""

    loss: Number
    grads: tuple[Number, ...]
    target_grads: tuple[Number, ...] | None


@dataclass(frozen=True)
class TrainCheck:
    """train() next to the contract's steps done by the grader with the student's own parts."""

    param_count: int
    manual_losses: tuple[Number, ...] | None
    manual_params: tuple[Number, ...] | None
    losses: tuple[Number, ...] | None
    params: tuple[Number, ...] | None


# ---- decoding ------------------------------------------------------------------------------


def decode(line: bytes, seq: int, what: str) -> dict:
    """One reply line as a JSON object numbered `seq` (the framing of every message)."""
    try:
        reply = json.loads(line.decode("utf-8"), parse_constant=float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(
            f"the worker's reply to {what} was not JSON ({type(exc).__name__})"
        ) from None
    if not isinstance(reply, dict):
        raise ProtocolError(f"the worker's reply to {what} was not a JSON object")
    if reply.get("seq") != seq or isinstance(reply.get("seq"), bool):
        raise ProtocolError(f"the worker's reply to {what} was not the reply to it")
    return reply


def parse(kind: str, reply: dict, expect: dict[str, Any] | None = None) -> Any:
    """Check `reply` to a `kind` probe and return its dataclass.

    A reply saying the submission raised becomes SubmissionError. `expect` gives what the
    request implies: a list's length ({"grads": 7}), {"passes": [counts per pass]} for graphs,
    {"input_grads": (rows, columns)}; a key it names must be present (not null) and that long.
    """
    if kind not in ("hello", "load") and reply.get("error") is not None:
        fields = REPLIES["error"].check(reply, "the reply")
        error = _error(fields["error"])
        raise SubmissionError(error, fields["where"], blocked=fields["where"] == "blocked")
    fields = REPLIES[kind].check(reply, f"the {kind} reply")
    if kind in ("graph", "release"):
        _passes_counted(fields, (expect or {}).get("passes"), kind)
    else:
        for key, count in (expect or {}).items():
            _count(fields, key, count, kind)
    return BUILDERS[kind](fields)


def _count(fields: dict, key: str, count: int | tuple[int, int], kind: str) -> None:
    value = fields.get(key)
    if value is None:
        raise ProtocolError(f"the {kind} reply has no {key}")
    rows, columns = count if isinstance(count, tuple) else (count, None)
    if len(value) != rows or (columns is not None and any(len(r) != columns for r in value)):
        raise ProtocolError(f"the {kind} reply's {key} does not hold {count} numbers")


def _passes_counted(fields: dict, counts: list[tuple[int, bool]] | None, kind: str) -> None:
    """Each pass's data (and grad, after a backward) has one number per reported node; a pass
    may end the reply early only by carrying the submission's error."""
    if counts is None:
        return
    passes = fields["passes"]
    if len(passes) > len(counts) or (
        len(passes) < len(counts) and not (passes and passes[-1]["error"] is not None)
    ):
        raise ProtocolError(f"the {kind} reply has {len(passes)} passes, not {len(counts)}")
    for item, (count, backward) in zip(passes, counts, strict=False):
        if item["error"] is not None:
            return
        if len(item["data"]) != count or (
            backward and (item["grad"] is None or len(item["grad"]) != count)
        ):
            raise ProtocolError(f"a pass of the {kind} reply does not hold {count} nodes")


def _error(fields: dict) -> StudentError:
    task = fields["task"]
    return StudentError(
        type=fields["type"] or "Error",
        message=fields["message"],
        file=fields["file"],
        line=fields["line"],
        code=fields["code"],
        task=task if task and TASK_ID.fullmatch(task) else None,
    )


def error_of(raw: dict) -> StudentError:
    """An error description made by the harness itself (e.g. an import that timed out)."""
    return _error(ERROR.check(raw, "the error"))


def _load(fields: dict) -> Load:
    return Load(
        names=frozenset(fields["names"]),
        import_error=None if fields["import_error"] is None else _error(fields["import_error"]),
        cell_errors=tuple(_error(e) for e in fields["cell_errors"]),
        cell_error_count=max(fields["cell_error_count"], len(fields["cell_errors"])),
    )


def _hello(fields: dict) -> Hello:
    return Hello(dict(fields["limits"]))


def _passes(fields: dict) -> list[PassResult]:
    results = []
    for item in fields["passes"]:
        if item["error"] is not None:
            raise SubmissionError(_error(item["error"]), item["step"] or "forward")
        results.append(PassResult(item["data"], item["grad"], item["grad_sum"]))
    return results


BUILDERS: dict[str, Callable[[dict], Any]] = {
    "hello": _hello,
    "load": _load,
    "graph": _passes,
    "release": _passes,
    "hold": lambda f: f["held"],
    "chain": lambda f: ChainResult(f["root"], f["grads"]),
    "model": lambda f: ModelResult(**f),
    "neuron_parts": lambda f: f,
    "parameters": lambda f: f["params"],
    "mse": lambda f: MseResult(f["loss"], f["grads"], f["target_grads"]),
    "train_check": lambda f: TrainCheck(**f),
}


def printable(text: str, limit: int = 500) -> str:
    """The submission's text with line breaks, terminal escapes and lone surrogates shown, not
    obeyed (it cannot fake a line of the grader's output), then cut to `limit` characters."""
    text = text[:limit]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escaped(c) for c in text)
    return text[:limit]


def _escaped(c: str) -> str:
    return repr(c)[1:-1] if not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}"
