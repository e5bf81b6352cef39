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
    """Build each pass's nodes from the shared leaves, run backward, report the asked nodes."""
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
                _backward(nodes[spec["root"]], request["reseed"], nodes, len(leaves))
        except BaseException as exc:
            passes.append(_pass(nodes, request, None, describe(exc, submission.root), step))
            break
        passes.append(_pass(nodes, request, spec["root"]))
    return {"passes": passes}


def _backward(root, reseed: bool, nodes: list | None = None, leaves: int = 0) -> None:
    """root.backward(); with `reseed`, if that leaves the root's grad other than 1.0, again
    from the grads as they were, with root.grad set to 1.0 first, as backward() should: a
    backward() that forgets the root is then charged only where that is checked.

    `nodes` (the first `leaves` of them shared with earlier passes) are those of the graph;
    without them only the root is known."""
    nodes = [root] if nodes is None else nodes
    before = [node.grad for node in nodes[:leaves]]
    root.backward()
    if reseed and not (type(root.grad) in (int, float) and root.grad == 1.0):
        for node, grad in zip(nodes, before + [0.0] * (len(nodes) - leaves), strict=True):
            node.grad = grad
        root.grad = 1.0
        root.backward()


def _pass(nodes: list, request: dict, root, error=None, step=None) -> dict:
    """One pass's reply: the reported nodes' data and grads, and the sum of every grad."""
    if error is not None:
        return {"error": error, "step": step, "data": [], "grad": None, "grad_sum": None}
    shown = nodes if request["report"] is None else [nodes[i] for i in request["report"]]
    backward = root is not None
    return {
        "error": None,
        "step": None,
        "data": _numbers(shown, "data"),
        "grad": _numbers(shown, "grad") if backward else None,
        "grad_sum": _number(sum(_numbers(nodes, "grad", strict=True))) if backward else None,
    }


HELD: dict = {}
"""The graph of a `hold` request, until its `release`."""


def hold(submission: Submission, request: dict) -> dict:
    """Build a graph's single pass and keep it: the harness times its backward() on its own."""
    (Value,) = submission.api("Value")
    HELD.clear()
    leaves = [Value(x) for x in request["leaves"]]
    nodes = list(leaves)
    (spec,) = request["passes"]
    for op, *args in spec["nodes"]:
        nodes.append(_apply(Value, op, args, nodes))
    HELD.update(nodes=nodes, request=request, root=spec["root"])
    return {"held": len(nodes)}


def release(submission: Submission, request: dict) -> dict:
    """backward() of the held graph, then its reply as for `graph`."""
    nodes, held, root = HELD.pop("nodes"), HELD.pop("request"), HELD.pop("root")
    HELD.clear()
    try:
        _backward(nodes[root], held["reseed"], nodes, len(held["leaves"]))
    except BaseException as exc:
        return {"passes": [_pass(nodes, held, None, describe(exc, submission.root), "backward")]}
    return {"passes": [_pass(nodes, held, root)]}


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


def _numbers(values, attribute: str, strict: bool = False) -> list:
    """Each value's data or grad as a float; `strict`: zeros in place of non-numbers."""
    numbers = [_number(getattr(value, attribute)) for value in values]
    return [x if isinstance(x, float) else 0.0 for x in numbers] if strict else numbers


def _number(x):
    """A float from a student's .data/.grad, or a string saying what it was instead."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return f"<{type(x).__name__}>"
    try:
        return float(x)
    except OverflowError:
        return "<int too large for a float>"


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
        _backward(
            total,
            True,
            [*params, *flat, total] + [v for row in inputs for v in row if isinstance(v, Value)],
        )
        if mode == "zero_grad":
            net.zero_grad()
        reply["grads"] = _numbers(params, "grad")
        if request["value_inputs"]:
            reply["input_grads"] = [_numbers(row, "grad") for row in inputs]
    return reply


def train_check(submission: Submission, request: dict) -> dict:
    """The contract's training steps done here with the student's model, mse_loss, zero_grad
    and backward(), and train() on a twin of that model (built after the same seed): train()
    is right when both end the same. No parameter is copied in, so any parameters() works."""
    Value, cls, mse_loss, train = submission.api("Value", request["kind"], "mse_loss", "train")
    xs, ys, kwargs = request["inputs"], request["targets"], request["train_kwargs"]

    def build():
        random.seed(request["seed"])
        net = cls(*request["args"], **request["kwargs"])
        params = list(net.parameters())
        _check_values(Value, params, f"{request['kind']}.parameters()")
        return net, params

    net, params = build()
    losses = []
    for _ in range(kwargs["steps"]):
        loss = mse_loss([net(x) for x in xs], ys)
        net.zero_grad()
        loss.backward()
        for p in params:
            p.data -= kwargs["lr"] * p.grad
        losses.append(loss.data)
    twin, twin_params = build()
    returned = train(twin, xs, ys, **kwargs)
    return {
        "param_count": len(twin_params),
        "manual_losses": [_number(x) for x in losses],
        "manual_params": _numbers(params, "data"),
        "losses": [_number(x) for x in returned],
        "params": _numbers(twin_params, "data"),
    }


def parameters(submission: Submission, request: dict) -> dict:
    """The data of a new model's parameters(), drawn after random.seed(seed); with "parts",
    of those models built one after the other, their parameters() joined."""
    random.seed(request["seed"])
    parts = request.get("parts") or [[request["kind"], request["args"]]]
    params = []
    for kind, args in parts:
        Value, cls = submission.api("Value", kind)
        made = list(cls(*args, **request["kwargs"]).parameters())
        _check_values(Value, made, f"{kind}.parameters()")
        params += made
    return {"params": _numbers(params, "data")}


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
    _backward(loss, True, [loss, *preds] + (targets if request["value_targets"] else []))
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
    _backward(node, True, [node, *leaves])
    return {"root": _number(node.data), "grads": _numbers(leaves, "grad")}


PROBES = {
    "graph": graph,
    "hold": hold,
    "release": release,
    "chain": chain,
    "model": model,
    "train_check": train_check,
    "neuron_parts": neuron_parts,
    "parameters": parameters,
    "mse": mse,
}


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
