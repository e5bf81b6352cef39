"""Correct: ops record only (children, op tag); backward() holds every rule in an if/elif on the tag, and orders the graph with explicit DFS frames [node, next child index].

task: none
loses:
keeps: forward, backward, backprop, nn, training
"""

import math
import random
from itertools import chain


class Value:
    """A number in a graph. Ops only record (children, op); backward() knows every rule."""

    def __init__(self, data, _children=(), _op="", _exponent=None):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._exponent = _exponent

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    @staticmethod
    def _wrap(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value._wrap(other)
        return Value(self.data + other.data, (self, other), "add")

    def __mul__(self, other):
        other = Value._wrap(other)
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
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        # Post-order DFS without recursion: each frame is [node, index of next child to visit].
        topo = []
        entered = {id(self)}
        frames = [[self, 0]]
        while frames:
            frame = frames[-1]
            node, i = frame
            if i < len(node._prev):
                frame[1] = i + 1
                child = node._prev[i]
                if id(child) not in entered:
                    entered.add(id(child))
                    frames.append([child, 0])
            else:
                frames.pop()
                topo.append(node)

        self.grad = 1.0
        for node in reversed(topo):
            g = node.grad
            op = node._op
            if op == "add":
                a, b = node._prev
                a.grad += g
                b.grad += g
            elif op == "mul":
                a, b = node._prev
                a.grad += b.data * g
                b.grad += a.data * g
            elif op == "pow":
                (a,) = node._prev
                k = node._exponent
                a.grad += k * a.data ** (k - 1) * g
            elif op == "tanh":
                (a,) = node._prev
                a.grad += (1 - node.data ** 2) * g
            elif op == "exp":
                (a,) = node._prev
                a.grad += node.data * g
            elif op == "relu":
                (a,) = node._prev
                a.grad += g if a.data > 0 else 0.0
            elif op == "log":
                (a,) = node._prev
                a.grad += g / a.data


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
