"""A dataclass-based Value with a three-colour iterative depth-first search.

task: 2.1
loses: backward
keeps: forward, nn, training

The one mistake: add's backward updates both inputs in one tuple assignment computed from the old grads, so
for a + a (self is other) a collects one share instead of two.

Value is a dataclass with identity equality (eq=False). backward() colours nodes white, grey
(children pending) and black (finished) while it walks the graph with a list used as a stack.
Activations are looked up by method name; train() is a while loop over a step counter.
"""

import math
import random
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]

_GREY, _BLACK = 1, 2


@dataclass(eq=False, repr=False)
class Value:
    data: float
    _children: tuple = ()
    _op: str = ""
    grad: float = field(default=0.0, init=False)

    def __post_init__(self):
        self.data = float(self.data)
        self.grad = 0.0
        self._prev = tuple(self._children)
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad, other.grad = self.grad + out.grad, other.grad + out.grad

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
        out = Value(math.pow(self.data, k) if isinstance(k, float) else self.data**k, (self,), "**")

        def _backward():
            if k != 0:
                self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            if self.data > 0:
                self.grad += out.grad

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
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return -self + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        colour = {}
        order = []
        stack = [self]
        while stack:
            node = stack[-1]
            state = colour.get(id(node))
            if state is None:
                colour[id(node)] = _GREY
                for child in node._prev:
                    if id(child) not in colour:
                        stack.append(child)
            else:
                stack.pop()
                if state == _GREY:
                    colour[id(node)] = _BLACK
                    order.append(node)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


_METHOD = {"tanh": "tanh", "relu": "relu", "linear": None}


class Neuron(Module):
    def __init__(self, nin, activation="tanh"):
        if activation not in _METHOD:
            raise ValueError(f"Unknown activation {activation!r}: use one of {tuple(_METHOD)}.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        z = self.b
        for i in range(len(self.w)):
            z = self.w[i] * x[i] + z
        method = _METHOD[self.activation]
        return getattr(z, method)() if method else z

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs if len(outs) != 1 else outs[0]

    def parameters(self):
        out = []
        for n in self.neurons:
            out += n.parameters()
        return out


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
        for layer in self.layers:
            x = layer([x] if isinstance(x, Value) else x)
        return x

    def parameters(self):
        return sum((layer.parameters() for layer in self.layers), [])


def mse_loss(predictions, targets):
    predictions = list(predictions)
    targets = list(targets)
    n = len(predictions)
    return sum(((p - t) ** 2 for p, t in zip(predictions, targets)), Value(0.0)) / n


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    i = 0
    while i < steps:
        loss = mse_loss([model(x) for x in xs], ys)
        losses.append(loss.data)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        i += 1
    return losses
