"""Micrograd-style engine storing local derivatives on the edges (no closures).

task: none
keeps: forward, backward, backprop, nn, training

Each Value keeps its children in _prev and, in _local, d(self)/d(child) for each edge, computed
when the node is built. backward() orders the graph with Kahn's algorithm (in-degree counts of
consumers), and train() drives a small optimizer object.
"""

from __future__ import annotations

import math
import random
from collections import deque

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, _children=(), _op="", _local=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._local = tuple(_local)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def _backward(self):
        g = self.grad
        for child, d in zip(self._prev, self._local):
            child.grad += d * g

    def __add__(self, other):
        other = _as_value(other)
        return Value(self.data + other.data, (self, other), "+", (1.0, 1.0))

    def __mul__(self, other):
        other = _as_value(other)
        return Value(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        x = self.data
        d = 0.0 if k == 0 else k * x ** (k - 1)
        return Value(x**k, (self,), f"**{k}", (d,))

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), "tanh", (1.0 - t * t,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), "exp", (e,))

    def relu(self):
        x = self.data
        if x > 0:
            return Value(x, (self,), "relu", (1.0,))
        return Value(0.0, (self,), "relu", (0.0,))

    def log(self):
        return Value(math.log(self.data), (self,), "log", (1.0 / self.data,))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_as_value(other))

    def __truediv__(self, other):
        return self * _as_value(other) ** -1

    def __radd__(self, other):
        return Value(other) + self

    def __rsub__(self, other):
        return Value(other) - self

    def __rmul__(self, other):
        return Value(other) * self

    def __rtruediv__(self, other):
        return Value(other) / self

    def backward(self):
        # pass 1: discover the graph and count, for each node, the edges coming from consumers
        indegree = {id(self): 0}
        stack = [self]
        while stack:
            node = stack.pop()
            for child in node._prev:
                key = id(child)
                if key not in indegree:
                    indegree[key] = 0
                    stack.append(child)
                indegree[key] += 1
        # pass 2: a node is processed once every consumer has pushed its gradient into it
        self.grad = 1.0
        ready = deque([self])
        while ready:
            node = ready.popleft()
            node._backward()
            for child in node._prev:
                key = id(child)
                indegree[key] -= 1
                if indegree[key] == 0:
                    ready.append(child)


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
        total = None
        for wi, xi in zip(self.w, x):
            term = wi * xi
            total = term if total is None else total + term
        total = self.b if total is None else total + self.b
        if self.activation == "tanh":
            return total.tanh()
        if self.activation == "relu":
            return total.relu()
        return total

    def parameters(self):
        params = list(self.w)
        params.append(self.b)
        return params


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        if len(self.neurons) == 1:
            return self.neurons[0](x)
        return [n(x) for n in self.neurons]

    def parameters(self):
        params = []
        for n in self.neurons:
            params.extend(n.parameters())
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
        for layer in self.layers:
            if isinstance(x, Value):
                x = [x]
            x = layer(x)
        return x

    def parameters(self):
        params = []
        for layer in self.layers:
            params.extend(layer.parameters())
        return params


def mse_loss(predictions, targets):
    total = Value(0.0)
    count = 0
    for p, t in zip(predictions, targets):
        diff = p - t
        total = total + diff * diff
        count += 1
    return total / count


class _GradientDescent:
    """A minimal optimizer: it owns the learning rate and the update rule."""

    def __init__(self, model, lr):
        self.model = model
        self.lr = lr

    def zero_grad(self):
        self.model.zero_grad()

    def step(self):
        for p in self.model.parameters():
            p.data -= self.lr * p.grad


def train(model, xs, ys, steps=20, lr=0.05):
    opt = _GradientDescent(model, lr)
    history = []
    for _ in range(steps):
        predictions = [model(x) for x in xs]
        loss = mse_loss(predictions, ys)
        history.append(float(loss.data))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return history
