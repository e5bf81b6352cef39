"""train appends the loss Value itself instead of loss.data, so it returns a list of Values rather than floats (their data are the right numbers).

task: 5.2
loses: training
keeps: forward, backward, backprop, nn
"""

import math
import random


def _coerce(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._children = list(_children)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = _coerce(other)
        out = Value(self.data + other.data, [self, other], "+")

        def grad_step():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = grad_step
        return out

    def __mul__(self, other):
        other = _coerce(other)
        out = Value(self.data * other.data, [self, other], "*")

        def grad_step():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = grad_step
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        out = Value(self.data ** k, [self], "**")

        def grad_step():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = grad_step
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), [self], "tanh")

        def grad_step():
            self.grad += (1 - out.data ** 2) * out.grad

        out._backward = grad_step
        return out

    def exp(self):
        out = Value(math.exp(self.data), [self], "exp")

        def grad_step():
            self.grad += out.data * out.grad

        out._backward = grad_step
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, [self], "relu")

        def grad_step():
            self.grad += out.grad if self.data > 0 else 0.0

        out._backward = grad_step
        return out

    def log(self):
        out = Value(math.log(self.data), [self], "log")

        def grad_step():
            self.grad += out.grad * (1 / self.data)

        out._backward = grad_step
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
        return -self + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        topo = []
        visited = {id(self)}
        stack = [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                topo.append(node)
            elif id(child) not in visited:
                visited.add(id(child))
                stack.append((child, iter(child._children)))

        self.grad = 1.0
        for node in reversed(topo):
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
        losses.append(loss)
        for param in model.parameters():
            param.data = param.data - lr * param.grad
        step += 1
    return losses
