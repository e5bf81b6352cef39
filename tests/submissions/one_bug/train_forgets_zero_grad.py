"""train never calls model.zero_grad(), so each step's gradients are added to those of all the steps before.

task: 5.2
loses: training
keeps: forward, backward, backprop, nn
"""

import math
import random
from itertools import chain


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    """Each op stores, next to each input, the local derivative d(out)/d(input)."""

    def __init__(self, data, _local=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._local = list(_local)
        self._op = _op

    @property
    def _prev(self):
        return tuple(child for child, _ in self._local)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = _as_value(other)
        return Value(self.data + other.data, [(self, 1.0), (other, 1.0)], "+")

    def __mul__(self, other):
        other = _as_value(other)
        return Value(self.data * other.data, [(self, other.data), (other, self.data)], "*")

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        if k == 0:
            slope = 0.0
        else:
            try:
                slope = k * self.data ** (k - 1)
            except ZeroDivisionError:  # 0 ** (negative): the slope is infinite
                slope = math.inf
        return Value(self.data ** k, [(self, slope)], "**")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, [(self, 1.0 - t * t)], "tanh")

    def exp(self):
        e = math.exp(self.data)
        return Value(e, [(self, e)], "exp")

    def relu(self):
        positive = self.data > 0
        return Value(self.data if positive else 0.0, [(self, 1.0 if positive else 0.0)], "relu")

    def log(self):
        return Value(math.log(self.data), [(self, 1.0 / self.data)], "log")

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
        order = []
        seen = {id(self)}
        stack = [(self, iter(self._local))]
        while stack:
            node, it = stack[-1]
            pushed = False
            for child, _ in it:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child._local)))
                    pushed = True
                    break
            if not pushed:
                stack.pop()
                order.append(node)

        self.grad = 1.0
        for node in reversed(order):
            for child, local in node._local:
                child.grad += local * node.grad


ACTIVATIONS = ("tanh", "relu", "linear")


class Module:
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
        z = self.b
        for w, v in zip(self.w, x):
            z = z + w * v
        return z if self.activation == "linear" else getattr(z, self.activation)()

    def parameters(self):
        return [*self.w, self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        if len(self.neurons) == 1:
            (only,) = outs
            return only
        return outs

    def parameters(self):
        return list(chain.from_iterable(n.parameters() for n in self.neurons))


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
            x = layer(x)
            if isinstance(x, Value):
                x = [x]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return list(chain.from_iterable(layer.parameters() for layer in self.layers))


def mse_loss(predictions, targets):
    errors = [(pred - target) ** 2 for pred, target in zip(predictions, targets)]
    return sum(errors[1:], errors[0]) / len(errors)


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        predictions = [model(x) for x in xs]
        loss = mse_loss(predictions, ys)
        losses.append(loss.data)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return losses
