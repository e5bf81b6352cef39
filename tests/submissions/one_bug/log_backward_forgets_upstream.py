"""log's backward rule adds 1 / self.data to self.grad without the factor out.grad: the student wrote the textbook derivative of ln x and forgot the chain rule.

task: 2.7
loses: backward
keeps: forward, backprop, nn, training
"""

import math
import random


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
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, [self, other], "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, [self, other], "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        out = Value(self.data ** k, [self], f"**{k}")

        def _backward():
            self.grad += (k * self.data ** (k - 1)) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, [self], "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), [self], "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data <= 0 else self.data, [self], "ReLU")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), [self], "log")

        def _backward():
            self.grad += 1 / self.data

        out._backward = _backward
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
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        WHITE, GREY, BLACK = 0, 1, 2
        colour = {}
        topo = []
        stack = [self]
        while stack:
            node = stack[-1]
            c = colour.get(id(node), WHITE)
            if c == WHITE:
                colour[id(node)] = GREY
                for child in node._children:
                    if colour.get(id(child), WHITE) == WHITE:
                        stack.append(child)
            else:
                stack.pop()
                if c == GREY:
                    colour[id(node)] = BLACK
                    topo.append(node)

        self.grad = 1.0
        for node in reversed(topo):
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
    n = 0
    total = Value(0.0)
    for p, t in zip(predictions, targets):
        diff = p - t
        total = total + diff * diff
        n += 1
    return total * (1.0 / n)


def train(model, xs, ys, steps=20, lr=0.05):
    history = []
    for step in range(steps):
        loss = mse_loss([model(x) for x in xs], ys)
        model.zero_grad()
        loss.backward()
        history.append(float(loss.data))  # before the update below
        for p in model.parameters():
            p.data -= lr * p.grad
    return history
