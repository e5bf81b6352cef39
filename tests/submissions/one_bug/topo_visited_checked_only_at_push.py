"""Scalar autograd and a tiny MLP library, written around a table of operations.

task: 3.1
loses: backprop
keeps: forward

The one mistake: The visited check is only done when pushing children, not when popping a node, so a node
pushed twice before its first visit is expanded twice: shared interior nodes appear twice in the
order and their _backward runs twice (double-counted gradients).

Every primitive op is a row of a table: (forward function, local derivative). The Value
class uses __slots__ and a single generic helper builds the nodes; backward() walks the
graph with an explicit stack of (node, expanded) pairs.
"""

from __future__ import annotations

import math
import random
from functools import reduce

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]


def _noop() -> None:
    return None


def _relu_fwd(x: float) -> float:
    return x if x > 0.0 else 0.0


# name -> (forward(x), local_derivative(x, y)) where y is the forward result
_UNARY = {
    "tanh": (math.tanh, lambda x, y: 1.0 - y * y),
    "exp": (math.exp, lambda x, y: y),
    "relu": (_relu_fwd, lambda x, y: 1.0 if x > 0.0 else 0.0),
    "log": (math.log, lambda x, y: 1.0 / x),
}

# name -> (forward(a, b), local_derivatives(a, b) -> (d/da, d/db))
_BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "*": (lambda a, b: a * b, lambda a, b: (b, a)),
}


class Value:
    __slots__ = ("data", "grad", "_prev", "_op", "_backward")

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._backward = _noop

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # generic node builders -------------------------------------------------
    def _binary(self, other, name):
        other = other if isinstance(other, Value) else Value(other)
        fwd, dfn = _BINARY[name]
        out = Value(fwd(self.data, other.data), (self, other), name)

        def _backward():
            da, db = dfn(self.data, other.data)
            self.grad += da * out.grad
            other.grad += db * out.grad

        out._backward = _backward
        return out

    def _unary(self, name):
        fwd, dfn = _UNARY[name]
        out = Value(fwd(self.data), (self,), name)

        def _backward():
            self.grad += dfn(self.data, out.data) * out.grad

        out._backward = _backward
        return out

    # primitives --------------------------------------------------------------
    def __add__(self, other):
        return self._binary(other, "+")

    def __mul__(self, other):
        return self._binary(other, "*")

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            local = 0.0 if k == 0 else k * self.data ** (k - 1)
            self.grad += local * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        return self._unary("tanh")

    def exp(self):
        return self._unary("exp")

    def relu(self):
        return self._unary("relu")

    def log(self):
        return self._unary("log")

    # derived ------------------------------------------------------------------
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self**-1 * other

    # backprop -----------------------------------------------------------------
    def backward(self):
        order = []
        seen = set()
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            seen.add(id(node))
            stack.append((node, True))
            for child in node._prev:
                if id(child) not in seen:
                    stack.append((child, False))
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


_ACTIVATIONS = ("tanh", "relu", "linear")


class Neuron(Module):
    def __init__(self, nin, activation="tanh"):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: use one of {_ACTIVATIONS}.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        pre = reduce(lambda acc, wx: acc + wx[0] * wx[1], zip(self.w, x), self.b)
        if self.activation == "linear":
            return pre
        return pre._unary(self.activation)

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return reduce(lambda acc, n: acc + n.parameters(), self.neurons, [])


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
        out = x
        for layer in self.layers:
            out = layer(out if isinstance(out, (list, tuple)) else [out])
        return out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def mse_loss(predictions, targets):
    preds = list(predictions)
    targs = list(targets)
    errs = [(p - t) ** 2 for p, t in zip(preds, targs)]
    return reduce(lambda a, b: a + b, errs) / len(errs)


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        predictions = [model(x) for x in xs]
        loss = mse_loss(predictions, ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
