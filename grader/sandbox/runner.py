"""Probes that run inside the worker: build graphs and models through the public API only.

Every probe returns plain JSON (numbers, lists, error descriptions). It never sees expected
values, and it touches nothing but the names in docs/api.md: no `_prev`, no `_backward`.
"""

from __future__ import annotations

import random

from loading import Blocked, Submission, describe

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
    """A chain `n = n + leaf` over many leaves: deeper than any recursion limit."""
    (Value,) = submission.api("Value")
    leaves = [Value(x) for x in request["leaves"]]
    node = leaves[0]
    for leaf in leaves[1:]:
        node = node + leaf
    _check_values(Value, [node], "the add op")
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
