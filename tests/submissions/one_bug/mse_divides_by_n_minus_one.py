"""mse_loss divides the sum of squares by n - 1, as for a sample variance, instead of n.

task: 5.1
loses: training
keeps: forward, backward, backprop, nn
"""

import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Callable


_created = itertools.count()


def _leaf_backward():
    pass


@dataclass(eq=False, repr=False)
class Value:
    data: float
    _children: tuple = ()
    _op: str = ""
    grad: float = field(default=0.0, init=False)
    _backward: Callable[[], None] = field(default_factory=lambda: _leaf_backward, init=False)
    _stamp: int = field(default_factory=lambda: next(_created), init=False)

    def __post_init__(self):
        self.data = float(self.data)
        self._prev = tuple(self._children)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        out = Value(self.data ** k, (self,), "**")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data * out.data) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += out.grad if self.data > 0 else 0.0

        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        # Every node is created after its children, so sorting the graph's nodes by creation
        # stamp, newest first, visits each node before all of the nodes it was computed from.
        graph = {}
        stack = [self]
        while stack:
            node = stack.pop()
            if id(node) in graph:
                continue
            graph[id(node)] = node
            stack.extend(node._prev)

        self.grad = 1.0
        for node in sorted(graph.values(), key=lambda n: n._stamp, reverse=True):
            node._backward()


ACTIVATIONS = ("tanh", "relu", "linear")


class Module:
    """Base class: anything that owns trainable Values."""

    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    def __init__(self, nin, activation="tanh"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: use one of {ACTIVATIONS}.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        preact = sum([wi * xi for wi, xi in zip(self.w, x)]) + self.b
        if self.activation == "relu":
            return preact.relu()
        if self.activation == "tanh":
            return preact.tanh()
        return preact

    def parameters(self):
        return list(self.w) + [self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out if len(out) > 1 else out[0]

    def parameters(self):
        params = []
        for n in self.neurons:
            params += n.parameters()
        return params


class MLP(Module):
    def __init__(self, nin, nouts, activation="tanh", output_activation="tanh"):
        if not nouts:
            raise ValueError("An MLP needs at least one layer: give nouts one size per layer.")
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation)
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        h = list(x)
        for layer in self.layers:
            h = layer(h)
            h = [h] if isinstance(h, Value) else h
        return h[0] if len(self.layers[-1].neurons) == 1 else h

    def parameters(self):
        params = []
        for layer in self.layers:
            params += layer.parameters()
        return params


def mse_loss(predictions, targets):
    squared = [(p - t) ** 2 for p, t in zip(predictions, targets)]
    return sum(squared) * (1 / (len(squared) - 1))


def train(model, xs, ys, steps=20, lr=0.05):
    history = []
    for step in range(steps):
        loss = mse_loss([model(x) for x in xs], ys)
        model.zero_grad()
        loss.backward()
        history.append(float(loss.data))  # before the update below
        for p in model.parameters():
            p.data -= lr * p.grad
    return history
