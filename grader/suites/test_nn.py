"""nn: Neuron, Layer and MLP with weights copied in, against torch; parameters(), zero_grad().

When a model's numbers differ from torch's, the same computation is written out with the
student's own Value ops and run on their engine: if their model agrees with that, the model is
right and the difference comes from the engine (charged there, not here).
"""

import random

import pytest

from grader import checks, compare
from grader.oracle import param_count
from grader.probes import Model, activations, layer_sizes, model_graph
from grader.protocol import Number
from grader.tasks import FORWARD, RULE

INPUTS = ((0.5, -1.0, 2.0), (-1.5, 0.25, 0.75))
ACTIVATIONS = ["tanh", "relu", "linear"]
LINEAR = {"activation": "linear"}


def params_for(kind, args, kwargs=None):
    """Distinct, moderate values so that a wrong order or a missing bias always shows."""
    count = param_count(kind, list(args), kwargs or {})
    return tuple(round(((i * 37) % 23 - 11) / 13, 6) for i in range(count))


PARAMETER_TASKS = {
    "Neuron": {"4.3"},
    "Layer": {"4.3", "4.5", "4.2"},
    "MLP": {"4.3", "4.5", "4.7", "4.2", "4.4"},
}
"""What copying parameters into a model, and calling it, rest on besides its own task."""


def needs_of(model: Model) -> set[str]:
    """The tasks a model probe relies on: + and *, its activations (and their rules and
    backward() when it back-propagates), and the parameters() it copies into."""
    ops = {"add", "mul"} | {a for a in activations(model) if a != "linear"}
    needs = {FORWARD[op] for op in ops} | PARAMETER_TASKS[model.kind]
    if model.mode != "forward":
        needs |= {RULE[op] for op in ops} | {"3.1"}
    return needs


def run(lab, model: Model, what: str, gradients: bool = False):
    """Compare outputs (and grads) with torch; on a difference, ask the student's own engine."""
    lab.case.needs |= needs_of(model)
    got, expected = checks.model(lab, model, what=what)
    shape, expected_shape = got.output_shape or ("nothing",), expected.output_shape or ("value",)
    if shape != expected_shape:
        single = expected_shape[0] == "value"
        checks.fail(
            f"{what}: calling it returned a {shape[0]}, expected "
            f"{'a single Value (one output)' if single else 'a list of Values'}"
        )
    try:
        checks.numbers(what, "output", got.outputs, expected.outputs)
        if gradients:
            checks.numbers(what, "parameters()[i].grad", got.grads, expected.grads)
            rows = zip(got.input_grads or (), expected.input_grads or (), strict=False)
            for row, (g, e) in enumerate(rows):
                checks.numbers(what, f"input {row} grad", g, e)
    except checks.Failure:
        lab.case.details = details(model, got, expected)
        lab.case.consistent = own_engine_agrees(lab, model, got, gradients)
        raise
    return got, expected


def own_engine_agrees(lab, model: Model, got, gradients: bool) -> bool:
    """Does the student's model give what their own ops give, written out as the contract
    says (in either order of summing the bias)?"""
    for bias_first in (True, False):
        graph, outputs = model_graph(model, bias_first)
        result = checks.own_engine(lab, graph, "the same model written out with your own ops")
        if result is None:
            return False
        (mine,) = result
        count = len(outputs)
        same = agree(got.outputs, mine.data[:count])
        if gradients and mine.grad is not None:
            params = len(model.params or ())
            same = same and agree(got.grads, mine.grad[count : count + params])
            inputs = [x for row in (got.input_grads or ()) for x in row]
            same = same and agree(tuple(inputs), mine.grad[count + params :])
        if same:
            return True
    return False


def agree(a: tuple[Number, ...] | None, b: tuple[Number, ...]) -> bool:
    return a is not None and len(a) == len(b) and all(map(compare.close, a, b))


def details(model: Model, got, expected) -> dict:
    """The model as the feedback page draws it: its layers and the first wrong parameter."""
    first = None
    if got.grads is not None and expected.grads is not None:
        first = next(
            (
                i
                for i, (g, e) in enumerate(zip(got.grads, expected.grads, strict=False))
                if not compare.close(g, e)
            ),
            None,
        )
    sizes = layer_sizes(model)
    names = [
        f"layer {layer + 1} neuron {neuron + 1} " + (f"w[{i}]" if i < nin else "b")
        for layer, (nin, nout) in enumerate(zip(sizes, sizes[1:], strict=False))
        for neuron in range(nout)
        for i in range(nin + 1)
    ]
    acts = activations(model)
    return {
        "kind": "model",
        "model": model.kind,
        "sizes": sizes,
        "activation": acts[0],
        "output_activation": acts[-1],
        "inputs": [list(x) for x in model.inputs],
        "outputs": {"got": list(got.outputs or ()), "expected": list(expected.outputs or ())},
        "param_grads": None
        if expected.grads is None
        else {"got": list(got.grads or ()), "expected": list(expected.grads)},
        "first_param": first,
        "param_names": names,
    }


def forward(lab, kind, args, kwargs, what, gradients=False, **extra):
    model = Model(kind, args, kwargs, params_for(kind, args, kwargs), INPUTS, **extra)
    return run(lab, model, what, gradients)


@pytest.mark.points(1)
@pytest.mark.task("4.3")
def test_neuron_parameters(lab):
    """Neuron(3).parameters() is its 3 weights, then its bias."""
    what = "Neuron(3).parameters()"
    with checks.checking(what):
        parts = checks.ask(
            lab.worker, "neuron_parts", {"probe": "neuron_parts", "nin": 3, "seed": 0}
        )
    w, b, params = parts["w"], (parts["b"],), parts["params"]
    if len(w) != 3:
        checks.fail(f"{what}: Neuron(3).w should hold 3 Values, it holds {len(w)}")
    checks.numbers(
        what,
        "parameters()[i].data",
        params,
        w + b,
        rule="parameters() is w + [b]: the weights in order, then the bias",
        source="your Neuron's own w and b",
    )


@pytest.mark.points(0.5)
@pytest.mark.task("4.3")
def test_neuron_draws_weights_then_bias(lab):
    """After random.seed(0), Neuron(3) draws w[0], w[1], w[2], then b, with uniform(-1, 1)."""
    what = "random.seed(0); Neuron(3)"
    with checks.checking(what):
        parts = checks.ask(
            lab.worker, "neuron_parts", {"probe": "neuron_parts", "nin": 3, "seed": 0}
        )
    draws = random.Random(0)
    expected = tuple(draws.uniform(-1, 1) for _ in range(4))
    checks.numbers(
        what,
        "w[0], w[1], w[2], b",
        tuple(parts["w"]) + (parts["b"],),
        expected,
        rule="draw each weight with random.uniform(-1, 1), in order, then the bias",
        source="random.uniform(-1, 1) after random.seed(0)",
    )


def check_parameters(lab, kind, args, parts, what, rule):
    """parameters() of a model built after random.seed(0) are those of its parts built the
    same way, one after the other, by the student's own classes: each Layer's neurons, each
    MLP's layers (no call of the model, nor the Neuron's own draw order, involved)."""
    request = {"probe": "parameters", "kind": kind, "args": list(args), "kwargs": {}, "seed": 0}
    built = {"probe": "parameters", "kind": parts[0][0], "args": [], "kwargs": {}, "seed": 0}
    with checks.checking(what):
        params = checks.ask(lab.worker, "parameters", request)
        expected = checks.ask(
            lab.worker, "parameters", {**built, "parts": [[k, list(a)] for k, a in parts]}
        )
    count = param_count(kind, list(args), {})
    if len(params) != count:
        checks.fail(f"{what}: parameters() returned {len(params)} Values, expected {count}")
    checks.numbers(
        what,
        "parameters()[i].data",
        params,
        expected,
        rule,
        f"the parameters of {parts[0][0]}s built in turn",
    )


@pytest.mark.points(1)
@pytest.mark.task("4.5")
def test_layer_parameters(lab):
    """Layer(3, 4).parameters(): 4 neurons of 3 weights + 1 bias, neuron by neuron."""
    check_parameters(
        lab,
        "Layer",
        (3, 4),
        [("Neuron", (3,))] * 4,
        "random.seed(0); Layer(3, 4).parameters()",
        "parameters() is the neurons' parameters, neuron by neuron",
    )


@pytest.mark.points(1)
@pytest.mark.task("4.7")
def test_mlp_parameters(lab):
    """MLP(3, [4, 4, 1]).parameters(): layer by layer, neuron by neuron, weights then bias."""
    check_parameters(
        lab,
        "MLP",
        (3, [4, 4, 1]),
        [("Layer", (3, 4)), ("Layer", (4, 4)), ("Layer", (4, 1))],
        "random.seed(0); MLP(3, [4, 4, 1]).parameters()",
        "parameters() is the layers' parameters, layer by layer",
    )


@pytest.mark.points(2)
@pytest.mark.task("4.2")
@pytest.mark.parametrize("activation", [*ACTIVATIONS, "default"])
@pytest.mark.parametrize("value_inputs", [False, True], ids=["numbers", "values"])
def test_neuron_forward(lab, activation, value_inputs):
    """Neuron(3, activation) called on numbers or Values: activation(w . x + b); tanh unless
    told otherwise."""
    kwargs = {} if activation == "default" else {"activation": activation}
    shown = "" if activation == "default" else f", activation={activation!r}"
    forward(
        lab, "Neuron", (3,), kwargs, f"Neuron(3{shown}) on {INPUTS[0]}", value_inputs=value_inputs
    )


@pytest.mark.points(1)
@pytest.mark.task("4.2")
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_neuron_gradients(lab, activation):
    """Grads of a Neuron's weights, bias and Value inputs after backward() of its output."""
    what = f"gradients of Neuron(3, activation={activation!r}) after backward() of its output"
    forward(
        lab,
        "Neuron",
        (3,),
        {"activation": activation},
        what,
        gradients=True,
        mode="backward",
        value_inputs=True,
    )


@pytest.mark.points(2)
@pytest.mark.task("4.4")
@pytest.mark.parametrize("nout", [1, 3])
def test_layer_forward(lab, nout):
    """Layer(3, nout): a list of nout Values, or the Value itself when nout == 1."""
    forward(lab, "Layer", (3, nout), LINEAR, f"Layer(3, {nout}, 'linear') on {INPUTS[0]}")


COMBINATIONS = [("linear", "linear")] + [(h, o) for h in ("tanh", "relu") for o in ACTIVATIONS]


@pytest.mark.points(2.5)
@pytest.mark.task("4.6")
@pytest.mark.parametrize("activation, output_activation", COMBINATIONS)
def test_mlp_forward(lab, activation, output_activation):
    """MLP(3, [4, 4, 1]) forward for each combination of hidden and output activation."""
    kwargs = {"activation": activation, "output_activation": output_activation}
    forward(
        lab,
        "MLP",
        (3, [4, 4, 1]),
        kwargs,
        f"MLP(3, [4, 4, 1], activation={activation!r}, "
        f"output_activation={output_activation!r}) on {INPUTS[0]}",
    )


@pytest.mark.points(0.5)
@pytest.mark.task("4.6")
@pytest.mark.parametrize("nouts", [[1, 3], [4, 1, 1]], ids=["one-then-three", "one-one"])
def test_mlp_with_one_neuron_hidden_layers(lab, nouts):
    """An MLP whose hidden layer has one neuron: that layer's bare Value goes on as a list."""
    kwargs = {"activation": "tanh", "output_activation": "linear"}
    forward(lab, "MLP", (3, nouts), kwargs, f"MLP(3, {nouts}, 'tanh', 'linear') on {INPUTS[0]}")


@pytest.mark.points(2)
@pytest.mark.task("4.6")
@pytest.mark.parametrize(
    "activation, output_activation", [("linear", "linear"), ("tanh", "tanh"), ("relu", "linear")]
)
@pytest.mark.parametrize("nouts", [[4, 1], [4, 2]], ids=["one-output", "two-outputs"])
def test_mlp_gradients(lab, activation, output_activation, nouts):
    """Parameter and input grads after backward() of the sum of an MLP's outputs."""
    kwargs = {"activation": activation, "output_activation": output_activation}
    what = (
        f"gradients of MLP(3, {nouts}, activation={activation!r}, "
        f"output_activation={output_activation!r}) after backward() of its outputs' sum"
    )
    forward(
        lab, "MLP", (3, nouts), kwargs, what, gradients=True, mode="backward", value_inputs=True
    )


@pytest.mark.points(1.5)
@pytest.mark.task("4.1")
def test_zero_grad(lab):
    """zero_grad() sets every parameter's grad back to 0.0."""
    what = "MLP(3, [4, 1]): backward(), then zero_grad()"
    model = Model("MLP", (3, [4, 1]), {}, params_for("MLP", (3, [4, 1])), INPUTS, mode="zero_grad")
    lab.case.needs |= needs_of(model) | {"4.6"}
    got, _ = checks.model(lab, model, what=what)
    zeros = (0.0,) * got.param_count
    checks.numbers(
        what,
        "parameters()[i].grad",
        got.grads,
        zeros,
        rule="zero_grad sets p.grad = 0.0",
        source="zero",
    )
