"""__rsub__ returns self - other, but Python calls b.__rsub__(a) for a - b, so 1 - x gives x - 1: the operands are swapped.

task: 1.11
loses: forward
keeps: backward, backprop, nn, training
"""

import math
import random


# d(out)/d(input) for each input of an op, given the output node.
_LOCAL_GRADS = {
    "+": lambda out: (1.0, 1.0),
    "*": lambda out: (out._prev[1].data, out._prev[0].data),
    "**": lambda out: (out._k * out._prev[0].data ** (out._k - 1),),
    "tanh": lambda out: (1.0 - out.data ** 2,),
    "exp": lambda out: (out.data,),
    "relu": lambda out: (1.0 if out._prev[0].data > 0 else 0.0,),
    "log": lambda out: (1.0 / out._prev[0].data,),
}


class Value:
    def __init__(self, data, _children=(), _op="", _k=None):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._k = _k

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "*")

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        return Value(self.data ** k, (self,), "**", _k=k)

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh")

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp")

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def log(self):
        return Value(math.log(self.data), (self,), "log")

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return self - other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        topo = []
        expanded, placed = set(), set()
        stack = [self]
        while stack:
            node = stack[-1]
            if id(node) in placed:
                stack.pop()
            elif id(node) not in expanded:
                expanded.add(id(node))
                stack.extend(c for c in node._prev if id(c) not in placed)
            else:
                stack.pop()
                placed.add(id(node))
                topo.append(node)

        self.grad = 1.0
        for node in reversed(topo):
            if node._op:
                for child, local in zip(node._prev, _LOCAL_GRADS[node._op](node)):
                    child.grad += local * node.grad


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
    for _ in range(steps):
        predictions = [model(x) for x in xs]
        loss = mse_loss(predictions, ys)
        losses.append(loss.data)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return losses
