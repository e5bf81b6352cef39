"""relu's backward passes the gradient when the input is >= 0 instead of > 0, so relu'(0) is 1 where PyTorch (and the contract) say 0.

task: 2.6
loses: backward
keeps: forward, backprop, nn, training
"""

import math
import random
from collections import deque


class Value:
    def __init__(self, data, _children=(), _op="", _k=None):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._k = _k

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # -- forward -----------------------------------------------------------------------------
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "add")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "mul")

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        return Value(self.data ** k, (self,), "pow", k)

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh")

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp")

    def relu(self):
        return Value(max(0.0, self.data), (self,), "relu")

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
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    # -- backward rules: push self.grad into the children --------------------------------------
    def _grad_add(self):
        a, b = self._prev
        a.grad += self.grad
        b.grad += self.grad

    def _grad_mul(self):
        a, b = self._prev
        a.grad += b.data * self.grad
        b.grad += a.data * self.grad

    def _grad_pow(self):
        (a,) = self._prev
        a.grad += self._k * a.data ** (self._k - 1) * self.grad

    def _grad_tanh(self):
        (a,) = self._prev
        a.grad += (1 - self.data ** 2) * self.grad

    def _grad_exp(self):
        (a,) = self._prev
        a.grad += self.data * self.grad

    def _grad_relu(self):
        (a,) = self._prev
        a.grad += (1.0 if a.data >= 0 else 0.0) * self.grad

    def _grad_log(self):
        (a,) = self._prev
        a.grad += self.grad / a.data

    def backward(self):
        # Kahn's algorithm: a node is ready once every node that uses it has pushed its share.
        users = {id(self): 0}
        stack = [self]
        while stack:
            node = stack.pop()
            for child in node._prev:
                if id(child) not in users:
                    users[id(child)] = 0
                    stack.append(child)
                users[id(child)] += 1

        self.grad = 1.0
        ready = deque([self])
        while ready:
            node = ready.popleft()
            if node._op:
                getattr(node, "_grad_" + node._op)()
            for child in node._prev:
                users[id(child)] -= 1
                if users[id(child)] == 0:
                    ready.append(child)


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
    predictions, targets = list(predictions), list(targets)
    total = sum(((p - t) ** 2 for p, t in zip(predictions, targets)), Value(0.0))
    return total / len(predictions)


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
