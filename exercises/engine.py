# Generated from solutions/ by `python -m grader stubs` (maintainers: edit solutions/ instead).
"""A scalar autograd engine: each Value remembers how it was computed, so it can backpropagate."""

from __future__ import annotations

import math
from collections.abc import Callable


class Value:
    """A number in a computation graph, with the gradient of the graph's root with respect to it.

    Each op returns Value(result, children, op); backward() walks the graph through the children.
    """

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._prev = _children
        self._op = _op
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other: Value | float) -> Value:
        """Return self + other. Backward: d(a + b)/da = 1 and d(a + b)/db = 1."""
        other = other if isinstance(other, Value) else Value(other)
        raise NotImplementedError("Task 1.1: compute out = self + other in Value.__add__")

        # Chain rule: out.grad is d(root)/d(out); each input adds d(out)/d(input) * out.grad.
        # Add with +=, never =: a Value used twice in the graph collects a share from each use.
        def _backward() -> None:
            raise NotImplementedError("Task 2.1: implement the backward rule of Value.__add__")

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        """Return self * other. Backward: d(a * b)/da = b and d(a * b)/db = a."""
        other = other if isinstance(other, Value) else Value(other)
        raise NotImplementedError("Task 1.2: compute out = self * other in Value.__mul__")

        def _backward() -> None:
            raise NotImplementedError("Task 2.2: implement the backward rule of Value.__mul__")

        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        """Return self ** k for a number k. Backward: d(x ** k)/dx = k * x ** (k - 1)."""
        if not isinstance(k, (int, float)):
            return NotImplemented
        raise NotImplementedError("Task 1.3: compute out = self ** k in Value.__pow__")

        def _backward() -> None:
            raise NotImplementedError("Task 2.3: implement the backward rule of Value.__pow__")

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """Return tanh(self). Backward: d(tanh x)/dx = 1 - tanh(x) ** 2 (tanh(x) is out.data)."""
        raise NotImplementedError("Task 1.4: compute out = tanh(self) in Value.tanh")

        def _backward() -> None:
            raise NotImplementedError("Task 2.4: implement the backward rule of Value.tanh")

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """Return e ** self. Backward: d(e ** x)/dx = e ** x (that is out.data)."""
        raise NotImplementedError("Task 1.5: compute out = exp(self) in Value.exp")

        def _backward() -> None:
            raise NotImplementedError("Task 2.5: implement the backward rule of Value.exp")

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """Return max(0, self). Backward: d(relu x)/dx = 1 if x > 0, else 0 (at 0 too, as torch)."""
        raise NotImplementedError("Task 1.6: compute out = relu(self) in Value.relu")

        def _backward() -> None:
            raise NotImplementedError("Task 2.6: implement the backward rule of Value.relu")

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Return ln(self), the natural log. Backward: d(ln x)/dx = 1 / x."""
        raise NotImplementedError("Task 1.7: compute out = log(self) in Value.log")

        def _backward() -> None:
            raise NotImplementedError("Task 2.7: implement the backward rule of Value.log")

        out._backward = _backward
        return out

    # Derived ops: one line each, built from the primitives above, so they need no backward rule.

    def __neg__(self) -> Value:
        """Return -self, built from an op you already have."""
        raise NotImplementedError("Task 1.8: implement Value.__neg__ from ops you have")

    def __sub__(self, other: Value | float) -> Value:
        """Return self - other, built from ops you already have."""
        raise NotImplementedError("Task 1.9: implement Value.__sub__ from ops you have")

    def __truediv__(self, other: Value | float) -> Value:
        """Return self / other, built from ops you already have."""
        raise NotImplementedError("Task 1.10: implement Value.__truediv__ from ops you have")

    # Reflected ops: Python calls b.__radd__(a) for a + b when a is a number and b a Value.

    def __radd__(self, other: float) -> Value:
        """Return other + self, for a number other."""
        raise NotImplementedError("Task 1.11: implement the reflected op Value.__radd__")

    def __rsub__(self, other: float) -> Value:
        """Return other - self, for a number other."""
        raise NotImplementedError("Task 1.11: implement the reflected op Value.__rsub__")

    def __rmul__(self, other: float) -> Value:
        """Return other * self, for a number other."""
        raise NotImplementedError("Task 1.11: implement the reflected op Value.__rmul__")

    def __rtruediv__(self, other: float) -> Value:
        """Return other / self, for a number other."""
        raise NotImplementedError("Task 1.11: implement the reflected op Value.__rtruediv__")

    def backward(self) -> None:
        """Set every node's grad to d(self)/d(node) by the chain rule, accumulating into grads.

        Order the nodes so each comes after its children (a topological order), set self.grad to
        1.0, then call each node's _backward from self down. Use a loop with a stack of nodes to
        visit, not recursion: a chain of 100,000 ops must work.
        """
        raise NotImplementedError("Task 3.1: implement Value.backward")
