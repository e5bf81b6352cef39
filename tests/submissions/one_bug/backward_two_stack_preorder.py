"""backward() uses the 'two-stack post-order' trick with a visited set, which gives a DFS pre-order: right for trees, but in a DAG a shared node can run before all of its users.

task: 3.1
loses: backprop
keeps: forward, backward, nn, training
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
        # Two-stack post-order: pop from the first stack onto the second, pushing children.
        # Read backwards, the second stack is the post-order, so read forwards it runs from
        # the root down: the order the chain rule needs.
        visited = set()
        first, second = [self], []
        while first:
            node = first.pop()
            if id(node) in visited:
                continue
            visited.add(id(node))
            second.append(node)
            first.extend(node._prev)

        self.grad = 1.0
        for node in second:
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
    n = 0
    total = Value(0.0)
    for p, t in zip(predictions, targets):
        diff = p - t
        total = total + diff * diff
        n += 1
    return total * (1.0 / n)


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    step = 0
    while step < steps:
        preds = [model(x) for x in xs]
        loss = mse_loss(preds, ys)
        model.zero_grad()
        loss.backward()
        losses.append(loss.data)
        for param in model.parameters():
            param.data = param.data - lr * param.grad
        step += 1
    return losses
