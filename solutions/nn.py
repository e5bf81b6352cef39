"""Neurons, layers and multi-layer perceptrons, built from Values."""

from __future__ import annotations

import random
from collections.abc import Sequence

from .engine import Value

ACTIVATIONS = ("tanh", "relu", "linear")


class Module:
    """Anything with trainable parameters: the base class of Neuron, Layer and MLP."""

    def parameters(self) -> list[Value]:
        """Return the trainable Values of this module, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Set the grad of every parameter to 0.0, so that the next backward() starts afresh."""
        # BEGIN SOLUTION 4.1: implement Module.zero_grad
        for p in self.parameters():
            p.grad = 0.0
        # END SOLUTION


class Neuron(Module):
    """One neuron: activation(w[0] * x[0] + ... + w[nin - 1] * x[nin - 1] + b)."""

    def __init__(self, nin: int, activation: str = "tanh") -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: use one of {ACTIVATIONS}.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        """Return the neuron's output for the nin inputs x (numbers or Values).

        Sum w[i] * x[i] over i, add b, then apply .tanh(), .relu() or nothing ("linear").
        """
        # BEGIN SOLUTION 4.2: implement Neuron.__call__
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        if self.activation == "tanh":
            return act.tanh()
        if self.activation == "relu":
            return act.relu()
        return act
        # END SOLUTION

    def parameters(self) -> list[Value]:
        """Return the weights, then the bias: w + [b]."""
        # BEGIN SOLUTION 4.3: implement Neuron.parameters
        return self.w + [self.b]
        # END SOLUTION


class Layer(Module):
    """nout neurons that all see the same nin inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh") -> None:
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """Return the list of the neurons' outputs, or the one output when there is one neuron."""
        # BEGIN SOLUTION 4.4: implement Layer.__call__
        outs = [neuron(x) for neuron in self.neurons]
        return outs[0] if len(outs) == 1 else outs
        # END SOLUTION

    def parameters(self) -> list[Value]:
        """Return the parameters of each neuron in turn."""
        # BEGIN SOLUTION 4.5: implement Layer.parameters
        return [p for neuron in self.neurons for p in neuron.parameters()]
        # END SOLUTION


class MLP(Module):
    """A multi-layer perceptron: layers of sizes nouts, each feeding the next."""

    def __init__(
        self,
        nin: int,
        nouts: list[int],
        activation: str = "tanh",
        output_activation: str = "tanh",
    ) -> None:
        if not nouts:
            raise ValueError("An MLP needs at least one layer: give nouts one size per layer.")
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """Return the last layer's output: a Value if it has one neuron, else a list of Values.

        Feed x to the first layer, its outputs to the next, and so on. A one-neuron layer returns
        a bare Value, but the layer after it expects a list.
        """
        # BEGIN SOLUTION 4.6: implement MLP.__call__
        for layer in self.layers[:-1]:
            out = layer(x)
            x = [out] if isinstance(out, Value) else out
        return self.layers[-1](x)
        # END SOLUTION

    def parameters(self) -> list[Value]:
        """Return the parameters of each layer in turn."""
        # BEGIN SOLUTION 4.7: implement MLP.parameters
        return [p for layer in self.layers for p in layer.parameters()]
        # END SOLUTION
