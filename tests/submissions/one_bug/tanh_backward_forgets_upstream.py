"""tanh's backward rule adds 1 - out.data**2 to self.grad without multiplying by out.grad, so it is only right when tanh is the root of the graph.

task: 2.4
loses: backward
keeps: forward, backprop, nn, training
"""

import math
import random
from itertools import chain


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
            self.grad += 1 - out.data ** 2

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
    squared = [(p - t) ** 2 for p, t in zip(predictions, targets)]
    return sum(squared) * (1 / len(squared))


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
