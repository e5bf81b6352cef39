"""The reference Neuron, Layer and MLP against the same network in PyTorch."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from solutions import MLP, Layer, Neuron, Value

ACTIVATIONS = ["tanh", "relu", "linear"]
X = [0.5, -1.5, 2.0]


def test_neuron_draws_weights_then_bias_from_uniform_minus_one_to_one() -> None:
    random.seed(7)
    neuron = Neuron(3)
    random.seed(7)
    expected = [random.uniform(-1, 1) for _ in range(4)]
    assert [p.data for p in neuron.parameters()] == expected
    assert neuron.parameters() == [*neuron.w, neuron.b]


@pytest.mark.parametrize(
    ("activation", "expected"),
    [("tanh", math.tanh(0.25)), ("relu", 0.25), ("linear", 0.25)],
)
def test_neuron_applies_its_activation_to_the_weighted_sum_plus_bias(
    activation: str, expected: float
) -> None:
    neuron = Neuron(2, activation)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.5, -1.0, 0.75
    assert neuron([2, 1.5]).data == pytest.approx(expected, rel=1e-15)


def test_relu_neuron_outputs_zero_for_a_negative_sum() -> None:
    neuron = Neuron(1, "relu")
    neuron.w[0].data, neuron.b.data = 1.0, -2.0
    assert neuron([1.0]).data == 0.0


def test_neuron_takes_values_as_inputs() -> None:
    x = [Value(1.0), Value(-2.0)]
    neuron = Neuron(2)
    neuron(x).backward()
    assert x[0].grad != 0.0 and x[1].grad != 0.0


def test_neuron_rejects_an_unknown_activation() -> None:
    with pytest.raises(ValueError, match="sigmoid"):
        Neuron(2, "sigmoid")


def test_neuron_rejects_an_input_of_the_wrong_length() -> None:
    with pytest.raises(ValueError):
        Neuron(3)([1.0, 2.0])


def test_layer_returns_a_list_or_the_one_value() -> None:
    outs = Layer(3, 2)(X)
    assert isinstance(outs, list) and len(outs) == 2
    assert isinstance(Layer(3, 1)(X), Value)


def test_parameters_go_layer_by_layer_neuron_by_neuron_weights_then_bias() -> None:
    model = MLP(3, [4, 2, 1])
    expected = [
        p for layer in model.layers for neuron in layer.neurons for p in [*neuron.w, neuron.b]
    ]
    assert model.parameters() == expected
    assert model.layers[0].parameters() == expected[:16]
    assert len(model.parameters()) == 4 * 4 + 2 * 5 + 1 * 3


def test_hidden_layers_use_activation_and_the_last_output_activation() -> None:
    model = MLP(3, [4, 4, 1], activation="relu", output_activation="linear")
    activations = [layer.neurons[0].activation for layer in model.layers]
    assert activations == ["relu", "relu", "linear"]


def test_mlp_returns_a_value_for_one_output_and_a_list_otherwise() -> None:
    assert isinstance(MLP(3, [4, 1])(X), Value)
    outs = MLP(3, [4, 2])(X)
    assert isinstance(outs, list) and len(outs) == 2


def test_mlp_with_a_one_neuron_hidden_layer_works() -> None:
    out = MLP(3, [1, 3, 1])(X)
    assert isinstance(out, Value)


def test_mlp_needs_at_least_one_layer() -> None:
    with pytest.raises(ValueError, match="at least one layer"):
        MLP(3, [])


def test_zero_grad_sets_every_parameter_grad_to_zero() -> None:
    model = MLP(3, [4, 1])
    out = model(X)
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize(
    ("activation", "output_activation"), list(itertools.product(ACTIVATIONS, ACTIVATIONS))
)
@pytest.mark.parametrize("nouts", [[4, 4, 1], [5, 3]], ids=["one output", "three outputs"])
def test_mlp_outputs_and_gradients_match_torch(
    torch_mlp: Callable[..., Any], activation: str, output_activation: str, nouts: list[int]
) -> None:
    random.seed(2024)
    model = MLP(3, nouts, activation, output_activation)
    reference = torch_mlp(model, nin=3)
    outs, expected = model(X), reference(X)
    outs = outs if isinstance(outs, list) else [outs]
    sum(outs, Value(0.0)).backward()
    expected.sum().backward()
    assert [o.data for o in outs] == pytest.approx(expected.tolist(), rel=1e-12)
    assert [p.grad for p in model.parameters()] == pytest.approx(reference.flat_grads(), rel=1e-12)
