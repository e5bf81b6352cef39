"""pow's backward rule takes abs(x) ** (k - 1), to keep clear of complex numbers: for x < 0 and
an odd k - 1 (x ** 2, x ** -2) the sign of the gradient is lost. Written apart from the grader.

task: 2.3
loses: backward
keeps: forward, backprop, nn, training
"""
import itertools
import math
import random

_TAPE_CLOCK = itertools.count()


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = _children
        self._op = _op
        self._backward = lambda: None
        self._tick = next(_TAPE_CLOCK)  # children are always created before the node that uses them

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
            self.grad += k * (abs(self.data) ** (k - 1)) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data <= 0 else self.data, (self,), "relu")

        def _backward():
            if self.data > 0:
                self.grad += out.grad

        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += (1.0 / self.data) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return -1 * self

    def __sub__(self, other):
        return self + -other

    def __truediv__(self, other):
        return self * other ** -1.0

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return -self + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        reachable = {id(self): self}
        stack = [self]
        while stack:
            node = stack.pop()
            for child in node._prev:
                if id(child) not in reachable:
                    reachable[id(child)] = child
                    stack.append(child)
        self.grad = 1.0
        for node in sorted(reachable.values(), key=lambda v: v._tick, reverse=True):
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
            raise ValueError(activation)
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        z = self.b
        for w, xi in zip(self.w, x):
            z = w * xi + z
        if self.activation == "relu":
            return z.relu()
        if self.activation == "tanh":
            return z.tanh()
        return z

    def parameters(self):
        return list(self.w) + [self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        if len(outs) == 1:
            return outs[0]
        return outs

    def parameters(self):
        out = []
        for n in self.neurons:
            out += n.parameters()
        return out


class MLP(Module):
    def __init__(self, nin, nouts, activation="tanh", output_activation="tanh"):
        sizes = [nin] + list(nouts)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation)
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            if not isinstance(x, list):
                x = [x] if isinstance(x, Value) else list(x)
            x = layer(x)
        return x

    def parameters(self):
        out = []
        for layer in self.layers:
            out += layer.parameters()
        return out


def mse_loss(predictions, targets):
    n = len(predictions)
    loss = Value(0.0)
    for p, t in zip(predictions, targets):
        d = p - t
        loss = loss + d * d
    return loss * (1.0 / n)


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        preds = [model(x) for x in xs]
        loss = mse_loss(preds, ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
