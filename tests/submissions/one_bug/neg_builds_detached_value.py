"""A Value that behaves a little like a float, with an iterator-stack topological sort.

task: 1.8
loses: backward
keeps: forward, nn

The one mistake: __neg__ returns Value(-self.data), a fresh leaf with no children: -a has the right value but
no gradient reaches a (nor through a - b to b, nor through 1 - a).

Value supports float(v), ordering comparisons and round(), but keeps identity hashing and
identity equality so that graphs can be walked with sets. Nodes are made by one factory,
_node(data, parents, grad_fn), where grad_fn maps the upstream gradient to the parents' shares.
"""

from __future__ import annotations

import math
import random

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]

_NUMBER = (int, float)


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # float-like conveniences (not part of the graph)
    def __float__(self):
        return self.data

    def __round__(self, ndigits=None):
        return round(self.data, ndigits)

    def __lt__(self, other):
        return self.data < float(other)

    def __le__(self, other):
        return self.data <= float(other)

    def __gt__(self, other):
        return self.data > float(other)

    def __ge__(self, other):
        return self.data >= float(other)

    __hash__ = object.__hash__

    @staticmethod
    def _node(data, parents, op, grad_fn):
        out = Value(data, parents, op)

        def _backward():
            shares = grad_fn(out.grad)
            for parent, share in zip(parents, shares):
                parent.grad += share

        out._backward = _backward
        return out

    @staticmethod
    def _lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value._lift(other)
        return Value._node(self.data + other.data, (self, other), "+", lambda g: (g, g))

    def __mul__(self, other):
        other = Value._lift(other)
        a, b = self, other
        return Value._node(a.data * b.data, (a, b), "*", lambda g: (b.data * g, a.data * g))

    def __pow__(self, k):
        if not isinstance(k, _NUMBER):
            return NotImplemented
        x = self

        def grad_fn(g):
            if k == 0:
                return (0.0,)
            return (k * x.data ** (k - 1) * g,)

        return Value._node(x.data**k, (x,), "**", grad_fn)

    def tanh(self):
        t = math.tanh(self.data)
        return Value._node(t, (self,), "tanh", lambda g: ((1.0 - t**2) * g,))

    def exp(self):
        e = math.exp(self.data)
        return Value._node(e, (self,), "exp", lambda g: (e * g,))

    def relu(self):
        positive = self.data > 0
        return Value._node(
            self.data if positive else 0.0,
            (self,),
            "relu",
            lambda g: (g if positive else 0.0,),
        )

    def log(self):
        x = self
        return Value._node(math.log(x.data), (x,), "log", lambda g: (g / x.data,))

    def __neg__(self):
        return Value(-self.data)

    def __sub__(self, other):
        return self + -Value._lift(other)

    def __truediv__(self, other):
        return self * Value._lift(other) ** -1

    def __radd__(self, other):
        return Value._lift(other) + self

    def __rsub__(self, other):
        return Value._lift(other) + -self

    def __rmul__(self, other):
        return Value._lift(other) * self

    def __rtruediv__(self, other):
        return Value._lift(other) * self**-1

    def backward(self):
        topo = []
        visited = {self}
        stack = [(self, iter(self._prev))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child._prev)))
                    break
            else:
                stack.pop()
                topo.append(node)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    _ACT = {"tanh": Value.tanh, "relu": Value.relu, "linear": lambda v: v}

    def __init__(self, nin, activation="tanh"):
        if activation not in self._ACT:
            raise ValueError(f"Unknown activation {activation!r}: use one of {tuple(self._ACT)}.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return self._ACT[self.activation](act)

    def parameters(self):
        return [*self.w, self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        if len(outs) == 1:
            (only,) = outs
            return only
        return outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


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
        for i, layer in enumerate(self.layers):
            out = layer(h)
            if i == len(self.layers) - 1:
                return out
            h = out if isinstance(out, list) else [out]
        raise AssertionError("unreachable")

    def parameters(self):
        params = []
        for layer in self.layers:
            params += layer.parameters()
        return params


def mse_loss(predictions, targets):
    pairs = list(zip(predictions, targets))
    squared = [(p - t) ** 2 for p, t in pairs]
    return sum(squared[1:], squared[0]) * (1.0 / len(pairs))


def train(model, xs, ys, steps=20, lr=0.05):
    curve = []
    step = 0
    while step < steps:
        predictions = [model(x) for x in xs]
        loss = mse_loss(predictions, ys)
        curve.append(float(loss))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data = p.data - lr * p.grad
        step += 1
    return curve
