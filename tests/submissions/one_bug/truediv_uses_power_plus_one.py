"""__truediv__ returns self * other ** 1 instead of self * other ** -1, so a / b computes a * b: the minus of the exponent was dropped.

task: 1.10
loses: forward
keeps: backward, backprop, nn, training
"""

import math
import random


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
        return self * other ** 1

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
        for param in self.parameters():
            param.grad = 0.0


class Neuron(Module):
    def __init__(self, nin, activation="tanh"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: use one of {ACTIVATIONS}.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        total = Value(0.0)
        for wi, xi in zip(self.w, x):
            total = total + wi * xi
        total = total + self.b
        if self.activation == "tanh":
            return total.tanh()
        elif self.activation == "relu":
            return total.relu()
        else:
            return total

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        outputs = []
        for neuron in self.neurons:
            outputs.append(neuron(x))
        if len(outputs) == 1:
            return outputs[0]
        return outputs

    def parameters(self):
        params = []
        for neuron in self.neurons:
            params.extend(neuron.parameters())
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
        out = x
        for layer in self.layers:
            if isinstance(out, Value):
                out = [out]  # a one-neuron layer hands back a bare Value
            out = layer(out)
        return out

    def parameters(self):
        params = []
        for layer in self.layers:
            params.extend(layer.parameters())
        return params


def mse_loss(predictions, targets):
    predictions, targets = list(predictions), list(targets)
    total = sum(((p - t) ** 2 for p, t in zip(predictions, targets)), Value(0.0))
    return total / len(predictions)


def _sgd_step(params, lr):
    for p in params:
        p.data -= lr * p.grad


def train(model, xs, ys, steps=20, lr=0.05):
    def one_step():
        predictions = [model(x) for x in xs]
        loss = mse_loss(predictions, ys)
        model.zero_grad()
        loss.backward()
        value = float(loss.data)
        _sgd_step(model.parameters(), lr)
        return value

    return [one_step() for _ in range(steps)]
