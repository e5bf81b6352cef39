"""The iterative post-order DFS in backward() keeps no visited set, so a node reached along two paths appears twice in the order and pushes its gradient twice (trees are still fine).

task: 3.1
loses: backprop
keeps: forward, backward, nn, training
"""

import math
import random
from itertools import chain


class _Backward:
    """The backward function of one op: knows its inputs, maps upstream grad to input grads."""

    def __init__(self, *inputs):
        self.inputs = inputs

    def input_grads(self, out, upstream):
        raise NotImplementedError


class _AddBackward(_Backward):
    def input_grads(self, out, upstream):
        return (upstream, upstream)


class _MulBackward(_Backward):
    def input_grads(self, out, upstream):
        a, b = self.inputs
        return (b.data * upstream, a.data * upstream)


class _PowBackward(_Backward):
    def __init__(self, base, k):
        super().__init__(base)
        self.k = k

    def input_grads(self, out, upstream):
        (x,) = self.inputs
        return (self.k * x.data ** (self.k - 1) * upstream,)


class _TanhBackward(_Backward):
    def input_grads(self, out, upstream):
        return ((1 - out.data ** 2) * upstream,)


class _ExpBackward(_Backward):
    def input_grads(self, out, upstream):
        return (out.data * upstream,)


class _ReluBackward(_Backward):
    def input_grads(self, out, upstream):
        (x,) = self.inputs
        return (upstream if x.data > 0 else 0.0,)


class _LogBackward(_Backward):
    def input_grads(self, out, upstream):
        (x,) = self.inputs
        return (upstream / x.data,)


class Value:
    def __init__(self, data, _children=(), _op="", _grad_fn=None):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self.grad_fn = _grad_fn

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    @staticmethod
    def _lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value._lift(other)
        return Value(self.data + other.data, (self, other), "+", _AddBackward(self, other))

    def __mul__(self, other):
        other = Value._lift(other)
        return Value(self.data * other.data, (self, other), "*", _MulBackward(self, other))

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            return NotImplemented
        return Value(self.data ** k, (self,), "**", _PowBackward(self, k))

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh", _TanhBackward(self))

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp", _ExpBackward(self))

    def relu(self):
        return Value(max(self.data, 0.0), (self,), "relu", _ReluBackward(self))

    def log(self):
        return Value(math.log(self.data), (self,), "log", _LogBackward(self))

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
        topo = []
        stack = [(self, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                topo.append(node)
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)

        self.grad = 1.0
        for node in reversed(topo):
            if node.grad_fn is not None:
                grads = node.grad_fn.input_grads(node, node.grad)
                for inp, g in zip(node.grad_fn.inputs, grads):
                    inp.grad += g


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
