"""Replies: what the worker (and the oracle) answered, parsed into floats the harness made.

Every reply is JSON; it is trusted only as the numbers, lists and error descriptions parsed
here into frozen dataclasses. Anything else is a ProtocolError, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.worker import ProtocolError

if TYPE_CHECKING:
    from grader.probes import Graph, Model


Number = float | str
"""A parsed number, or a short description of what the submission gave instead."""


@dataclass(frozen=True)
class StudentError:
    """An exception raised by the submission, as the worker described it."""

    type: str
    """Exception class name."""
    message: str
    """Its message (truncated)."""
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
        self.blocked = blocked


@dataclass(frozen=True)
class PassResult:
    """Every node's data and (after backward) grad, in node order."""

    data: tuple[Number, ...]
    grad: tuple[Number, ...] | None


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


def parse_chain(reply: dict) -> ChainResult:
    return ChainResult(root=_number(reply.get("root")), grads=_numbers(reply.get("grads")))


def parse_passes(reply: dict, graph: Graph) -> list[PassResult]:
    passes = _list(reply.get("passes"), "passes")
    results = []
    for spec, item in zip(graph.passes, passes, strict=False):  # counted below
        if not isinstance(item, dict):
            raise ProtocolError("a pass reply was not an object")
        if item.get("error") is not None:
            raise SubmissionError(parse_error(item["error"]), str(item.get("step")))
        count = len(graph.leaves) + len(spec.nodes)
        data = _numbers(item.get("data"), count)
        grad = None if spec.root is None else _numbers(item.get("grad"), count)
        results.append(PassResult(data, grad))
    if len(results) != len(graph.passes):
        raise ProtocolError("the reply has fewer passes than the request")
    return results


def parse_model(reply: dict, model: Model) -> ModelResult:
    """Parse a model reply; a field the probe's mode needs must be there (when the parameter
    count matched and the parameters could be copied in)."""

    def opt(key: str) -> tuple[Number, ...] | None:
        return None if reply.get(key) is None else _numbers(reply[key])

    input_grads = reply.get("input_grads")
    shape = reply.get("output_shape")
    result = ModelResult(
        param_count=_int(reply.get("param_count")),
        outputs=opt("outputs"),
        output_shape=None if shape is None else tuple(str(s) for s in _list(shape, "shape")),
        grads=opt("grads"),
        input_grads=None
        if input_grads is None
        else tuple(_numbers(row) for row in _list(input_grads, "input_grads")),
        losses=opt("losses"),
        params=opt("params"),
    )
    if model.params is not None and result.param_count == len(model.params):
        needed = ["outputs", "output_shape"] + {
            "backward": ["grads"] + (["input_grads"] if model.value_inputs else []),
            "zero_grad": ["grads"],
            "train": ["losses", "params"],
        }.get(model.mode, [])
        missing = [key for key in needed if getattr(result, key) is None]
        if missing:
            raise ProtocolError(f"the model reply has no {', '.join(missing)}")
        if len(result.output_shape or ()) != len(model.inputs):
            raise ProtocolError("the model reply has no output shape for some inputs")
    return result


@dataclass(frozen=True)
class MseResult:
    """mse_loss's value and the gradients of predictions (and of Value targets)."""

    loss: Number
    grads: tuple[Number, ...]
    target_grads: tuple[Number, ...] | None


def parse_mse(reply: dict) -> MseResult:
    target_grads = reply.get("target_grads")
    return MseResult(
        loss=_number(reply.get("loss")),
        grads=_numbers(reply.get("grads")),
        target_grads=None if target_grads is None else _numbers(target_grads),
    )


def parse_error(raw: object) -> StudentError:
    if not isinstance(raw, dict):
        raise ProtocolError("an error description was not an object")

    def text(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else printable(str(value)[:500])

    line = raw.get("line")
    return StudentError(
        type=text("type") or "Error",
        message=text("message") or "",
        file=text("file"),
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        code=text("code"),
        task=text("task"),
    )


def _list(value: object, what: str) -> list:
    if not isinstance(value, list):
        raise ProtocolError(f"the reply's {what} was not a list")
    return value


def parse_numbers(value: object) -> tuple[Number, ...]:
    """A number or a list of numbers from a reply, as a tuple."""
    return _numbers(value if isinstance(value, list) else [value])


def _numbers(value: object, count: int | None = None) -> tuple[Number, ...]:
    items = _list(value, "numbers")
    if count is not None and len(items) != count:
        raise ProtocolError(f"expected {count} numbers in the reply, got {len(items)}")
    if all(type(x) is float for x in items):  # the common case, checked in one pass
        return tuple(items)
    return tuple(_number(x) for x in items)


def _number(x: object) -> Number:
    """A float the harness made itself; anything else becomes a description string."""
    if isinstance(x, bool):
        return "<bool>"
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        return printable(x[:40])
    raise ProtocolError("a number in the reply was neither a number nor a description")


def printable(text: str) -> str:
    """The submission's text with line breaks and terminal escapes shown, not obeyed: it cannot
    fake a line of the grader's output."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _int(x: object) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise ProtocolError("a count in the reply was not an integer")
    return x
