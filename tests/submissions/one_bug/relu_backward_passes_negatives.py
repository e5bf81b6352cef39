"""relu's backward tests out.data >= 0 instead of the input being > 0; the output of relu is never negative, so the gradient always flows, also for negative inputs.

task: 2.6
loses: backward
keeps: forward, backprop, nn, training
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
            self.grad += out.grad if out.data >= 0 else 0.0

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

_APPLY = {
    "tanh": lambda v: v.tanh(),
    "relu": lambda v: v.relu(),
    "linear": lambda v: v,
}


class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        return []


class Neuron(Module):
    def __init__(self, nin, activation="tanh"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: use one of {ACTIVATIONS}.")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x):
        acc = None
        for i in range(len(self.w)):
            term = self.w[i] * x[i]
            acc = term if acc is None else acc + term
        acc = self.b if acc is None else acc + self.b
        return _APPLY[self.activation](acc)

    def parameters(self):
        params = list(self.w)
        params.append(self.b)
        return params


class Layer(Module):
    def __init__(self, nin, nout, activation="tanh"):
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x):
        if len(self.neurons) == 1:
            return self.neurons[0](x)
        return [n(x) for n in self.neurons]

    def parameters(self):
        params = []
        for n in self.neurons:
            params.extend(n.parameters())
        return params


class MLP(Module):
    def __init__(self, nin, nouts, activation="tanh", output_activation="tanh"):
        if not nouts:
            raise ValueError("An MLP needs at least one layer: give nouts one size per layer.")
        sizes = [nin] + list(nouts)
        self.layers = []
        for i in range(len(nouts)):
            act = output_activation if i == len(nouts) - 1 else activation
            self.layers.append(Layer(sizes[i], sizes[i + 1], act))

    def __call__(self, x):
        values = x
        for layer in self.layers:
            values = layer([values] if isinstance(values, Value) else values)
        return values

    def parameters(self):
        params = []
        for i in range(len(self.layers)):
            params.extend(self.layers[i].parameters())
        return params


def mse_loss(predictions, targets):
    n = 0
    total = Value(0.0)
    for p, t in zip(predictions, targets):
        diff = p - t
        total = total + diff * diff
        n += 1
    return total * (1.0 / n)


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
