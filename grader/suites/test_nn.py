"""nn: Neuron, Layer and MLP with weights copied in, against torch; parameters(), zero_grad()."""

import pytest

from grader import checks
from grader.oracle import param_count
from grader.probes import Model, ask
from grader.replies import parse_numbers

INPUTS = ((0.5, -1.0, 2.0), (-1.5, 0.25, 0.75))
ACTIVATIONS = ["tanh", "relu", "linear"]


def params_for(kind, args, kwargs=None):
    """Distinct, moderate values so that a wrong order or a missing bias always shows."""
    count = param_count(kind, list(args), kwargs or {})
    return tuple(round(((i * 37) % 23 - 11) / 13, 6) for i in range(count))


def forward(worker, oracle, kind, args, kwargs, what, **extra):
    model = Model(kind, args, kwargs, params_for(kind, args, kwargs), INPUTS, **extra)
    got, expected = checks.model(worker, oracle, model, what=what)
    if got.output_shape != expected.output_shape:
        single = expected.output_shape[0] == "value"
        checks.fail(
            f"{what}: calling it returned a {got.output_shape[0]}, expected "
            f"{'a single Value (one output)' if single else 'a list of Values'}"
        )
    checks.numbers(what, "output", got.outputs, expected.outputs)
    return got, expected


@pytest.mark.points(1.5)
@pytest.mark.task("4.3")
def test_neuron_parameters(worker):
    """Neuron(3).parameters() is its 3 weights, then its bias."""
    what = "Neuron(3).parameters()"
    with checks.checking(what):
        reply = ask(worker, {"probe": "neuron_parts", "nin": 3, "seed": 0})
        w, b, params = (parse_numbers(reply.get(key)) for key in ("w", "b", "params"))
    if len(w) != 3:
        checks.fail(f"{what}: Neuron(3).w should hold 3 Values, it holds {len(w)}")
    checks.numbers(
        what,
        "parameters()[i].data",
        params,
        w + b,
        rule="parameters() is w + [b]: the weights in order, then the bias",
    )


@pytest.mark.points(1)
@pytest.mark.task("4.5")
def test_layer_parameters(worker, oracle):
    """Layer(3, 4).parameters(): 4 neurons of 3 weights + 1 bias, neuron by neuron."""
    forward(worker, oracle, "Layer", (3, 4), {}, "Layer(3, 4) with parameters copied in order")


@pytest.mark.points(1)
@pytest.mark.task("4.7")
def test_mlp_parameters(worker, oracle):
    """MLP(3, [4, 4, 1]).parameters(): layer by layer, neuron by neuron, weights then bias."""
    forward(
        worker,
        oracle,
        "MLP",
        (3, [4, 4, 1]),
        {},
        "MLP(3, [4, 4, 1]) with parameters copied in order",
    )


@pytest.mark.points(2)
@pytest.mark.task("4.2")
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("value_inputs", [False, True], ids=["numbers", "values"])
def test_neuron_forward(worker, oracle, activation, value_inputs):
    """Neuron(3, activation) called on numbers or Values: activation(w . x + b)."""
    forward(
        worker,
        oracle,
        "Neuron",
        (3,),
        {"activation": activation},
        f"Neuron(3, activation={activation!r}) on {INPUTS[0]}",
        value_inputs=value_inputs,
    )


@pytest.mark.points(2)
@pytest.mark.task("4.4")
@pytest.mark.parametrize("nout", [1, 3])
def test_layer_forward(worker, oracle, nout):
    """Layer(3, nout): a list of nout Values, or the Value itself when nout == 1."""
    forward(worker, oracle, "Layer", (3, nout), {}, f"Layer(3, {nout}) on {INPUTS[0]}")


COMBINATIONS = [(h, o) for h in ("tanh", "relu") for o in ACTIVATIONS]


@pytest.mark.points(3)
@pytest.mark.task("4.6")
@pytest.mark.parametrize("activation, output_activation", COMBINATIONS)
def test_mlp_forward(worker, oracle, activation, output_activation):
    """MLP(3, [4, 4, 1]) forward for each combination of hidden and output activation."""
    kwargs = {"activation": activation, "output_activation": output_activation}
    forward(
        worker,
        oracle,
        "MLP",
        (3, [4, 4, 1]),
        kwargs,
        f"MLP(3, [4, 4, 1], activation={activation!r}, "
        f"output_activation={output_activation!r}) on {INPUTS[0]}",
    )


@pytest.mark.points(3)
@pytest.mark.task("4.6")
@pytest.mark.parametrize("activation, output_activation", [("tanh", "tanh"), ("relu", "linear")])
@pytest.mark.parametrize("nouts", [[4, 1], [4, 2]], ids=["one-output", "two-outputs"])
def test_mlp_gradients(worker, oracle, activation, output_activation, nouts):
    """Parameter and input grads after backward() of the sum of an MLP's outputs."""
    kwargs = {"activation": activation, "output_activation": output_activation}
    what = (
        f"gradients of MLP(3, {nouts}, activation={activation!r}, "
        f"output_activation={output_activation!r}) after backward() of its outputs' sum"
    )
    got, expected = forward(
        worker, oracle, "MLP", (3, nouts), kwargs, what, mode="backward", value_inputs=True
    )
    checks.numbers(what, "parameters()[i].grad", got.grads, expected.grads)
    for row, (g, e) in enumerate(zip(got.input_grads, expected.input_grads, strict=True)):
        checks.numbers(what, f"input {row} grad", g, e)


@pytest.mark.points(1.5)
@pytest.mark.task("4.1")
def test_zero_grad(worker, oracle):
    """zero_grad() sets every parameter's grad back to 0.0."""
    what = "MLP(3, [4, 1]): backward(), then zero_grad()"
    got, expected = forward(worker, oracle, "MLP", (3, [4, 1]), {}, what, mode="zero_grad")
    checks.numbers(what, "parameters()[i].grad", got.grads, expected.grads)
