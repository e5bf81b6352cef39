"""An engine whose topological order comes from the order in which nodes were created.

task: none
keeps: forward, backward, backprop, nn, training

A node is always created after its inputs, so sorting the reachable nodes by a global creation
counter (newest first) is a valid reverse topological order. backward() collects the reachable
nodes with a plain stack, sorts them and runs each node's _backward exactly once. The local
derivatives are stored on the node (_grads) when it is built.
"""

import itertools
import math
import operator
import random
from functools import reduce

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]

_ticket = itertools.count()


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._grads = ()
        self._serial = next(_ticket)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def _backward(self):
        for child, local in zip(self._prev, self._grads):
            child.grad += local * self.grad

    def _with(self, grads):
        self._grads = tuple(grads)
        return self

    def __add__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        return Value(self.data + other.data, (self, other), "+")._with((1.0, 1.0))

    def __mul__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        return Value(self.data * other.data, (self, other), "*")._with((other.data, self.data))

    def __pow__(self, k):
        if isinstance(k, Value) or not isinstance(k, (int, float)):
            return NotImplemented
        local = k * self.data ** (k - 1) if k != 0 else 0.0
        return Value(self.data**k, (self,), f"**{k!r}")._with((local,))

    def tanh(self):
        y = math.tanh(self.data)
        return Value(y, (self,), "tanh")._with((1.0 - y * y,))

    def exp(self):
        y = math.exp(self.data)
        return Value(y, (self,), "exp")._with((y,))

    def relu(self):
        on = self.data > 0.0
        return Value(self.data if on else 0.0, (self,), "relu")._with((1.0 if on else 0.0,))

    def log(self):
        return Value(math.log(self.data), (self,), "log")._with((1.0 / self.data,))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + -1.0 * other if not isinstance(other, Value) else self + (-other)

    def __truediv__(self, other):
        return self * (other**-1)

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        return -self + other

    def __rtruediv__(self, other):
        return (self**-1) * other

    def backward(self):
        seen = {id(self): self}
        todo = [self]
        while todo:
            node = todo.pop()
            for child in node._prev:
                if id(child) not in seen:
                    seen[id(child)] = child
                    todo.append(child)
        self.grad = 1.0
        for node in sorted(seen.values(), key=operator.attrgetter("_serial"), reverse=True):
            node._backward()


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    def __init__(self, nin, activation="tanh"):
        if activation not in ("tanh", "relu", "linear"):
            raise ValueError(f"Unknown activation {activation!r}: use tanh, relu or linear.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        z = sum(map(operator.mul, self.w, x), self.b)
        if self.activation == "linear":
            return z
        return z.tanh() if self.activation == "tanh" else z.relu()

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        ys = [n(x) for n in self.neurons]
        return ys[0] if len(self.neurons) == 1 else ys

    def parameters(self):
        return list(itertools.chain.from_iterable(n.parameters() for n in self.neurons))


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
        return reduce(
            lambda h, layer: layer(h if isinstance(h, list) else [h]), self.layers, list(x)
        )

    def parameters(self):
        return list(itertools.chain.from_iterable(l.parameters() for l in self.layers))


def mse_loss(predictions, targets):
    terms = [(p - t) ** 2 for p, t in zip(predictions, targets)]
    return sum(terms, Value(0.0)) / float(len(terms))


def train(model, xs, ys, steps=20, lr=0.05):
    recorded = []
    for _ in range(steps):
        loss = mse_loss([model(x) for x in xs], ys)
        recorded.append(loss.data)
        model.zero_grad()
        loss.backward()
        for param in model.parameters():
            param.data -= lr * param.grad
    return recorded
