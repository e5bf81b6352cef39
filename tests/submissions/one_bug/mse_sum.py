"""mse_loss returns the sum of the squared errors, not their mean.

task: 5.1
loses: training
keeps: forward, backward, backprop, nn
"""

import math
import random


def _nothing():
    pass


class Value:
    __slots__ = ("data", "grad", "_backward", "_prev", "_op")

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = _nothing
        self._prev = tuple(_children)
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def grad_fn():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad

        out._backward = grad_fn
        return out

    def __mul__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def grad_fn():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = grad_fn
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        out = Value(self.data ** k, (self,), "pow")

        def grad_fn():
            self.grad += k * (self.data ** (k - 1)) * out.grad

        out._backward = grad_fn
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def grad_fn():
            self.grad += (1 - out.data ** 2) * out.grad

        out._backward = grad_fn
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def grad_fn():
            self.grad += out.data * out.grad

        out._backward = grad_fn
        return out

    def relu(self):
        out = Value(max(0.0, self.data), (self,), "relu")

        def grad_fn():
            if self.data > 0:
                self.grad += out.grad

        out._backward = grad_fn
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def grad_fn():
            self.grad += out.grad / self.data

        out._backward = grad_fn
        return out

    def __neg__(self):
        return self * -1.0

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
        return self ** -1 * other

    def backward(self):
        order = []
        seen = {id(self)}
        stack = [(self, iter(self._prev))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child._prev)))
                    break
            else:
                stack.pop()
                order.append(node)  # every child of node is already in order

        self.grad = 1.0
        for node in reversed(order):
            node._backward()


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
    return total


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
