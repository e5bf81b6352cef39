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
        # BEGIN SOLUTION 1.1: compute out = self + other in Value.__add__
        out = Value(self.data + other.data, (self, other), "+")
        # END SOLUTION

        # Chain rule: out.grad is d(root)/d(out); each input adds d(out)/d(input) * out.grad.
        # Add with +=, never =: a Value used twice in the graph collects a share from each use.
        def _backward() -> None:
            # BEGIN SOLUTION 2.1: implement the backward rule of Value.__add__
            self.grad += out.grad
            other.grad += out.grad
            # END SOLUTION

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        """Return self * other. Backward: d(a * b)/da = b and d(a * b)/db = a."""
        other = other if isinstance(other, Value) else Value(other)
        # BEGIN SOLUTION 1.2: compute out = self * other in Value.__mul__
        out = Value(self.data * other.data, (self, other), "*")
        # END SOLUTION

        def _backward() -> None:
            # BEGIN SOLUTION 2.2: implement the backward rule of Value.__mul__
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
            # END SOLUTION

        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        """Return self ** k for a number k. Backward: d(x ** k)/dx = k * x ** (k - 1)."""
        if not isinstance(k, (int, float)):
            return NotImplemented
        # BEGIN SOLUTION 1.3: compute out = self ** k in Value.__pow__
        out = Value(self.data**k, (self,), f"**{k}")
        # END SOLUTION

        def _backward() -> None:
            # BEGIN SOLUTION 2.3: implement the backward rule of Value.__pow__
            self.grad += k * self.data ** (k - 1) * out.grad
            # END SOLUTION

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """Return tanh(self). Backward: d(tanh x)/dx = 1 - tanh(x) ** 2 (tanh(x) is out.data)."""
        # BEGIN SOLUTION 1.4: compute out = tanh(self) in Value.tanh
        out = Value(math.tanh(self.data), (self,), "tanh")
        # END SOLUTION

        def _backward() -> None:
            # BEGIN SOLUTION 2.4: implement the backward rule of Value.tanh
            self.grad += (1 - out.data**2) * out.grad
            # END SOLUTION

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """Return e ** self. Backward: d(e ** x)/dx = e ** x (that is out.data)."""
        # BEGIN SOLUTION 1.5: compute out = exp(self) in Value.exp
        out = Value(math.exp(self.data), (self,), "exp")
        # END SOLUTION

        def _backward() -> None:
            # BEGIN SOLUTION 2.5: implement the backward rule of Value.exp
            self.grad += out.data * out.grad
            # END SOLUTION

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """Return max(0, self). Backward: d(relu x)/dx = 1 if x > 0, else 0 (at 0 too, as torch)."""
        # BEGIN SOLUTION 1.6: compute out = relu(self) in Value.relu
        out = Value(max(0.0, self.data), (self,), "relu")
        # END SOLUTION

        def _backward() -> None:
            # BEGIN SOLUTION 2.6: implement the backward rule of Value.relu
            if self.data > 0:
                self.grad += out.grad
            # END SOLUTION

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Return ln(self), the natural log. Backward: d(ln x)/dx = 1 / x."""
        # BEGIN SOLUTION 1.7: compute out = log(self) in Value.log
        out = Value(math.log(self.data), (self,), "log")
        # END SOLUTION

        def _backward() -> None:
            # BEGIN SOLUTION 2.7: implement the backward rule of Value.log
            self.grad += out.grad / self.data
            # END SOLUTION

        out._backward = _backward
        return out

    # Derived ops: one line each, built from the primitives above, so they need no backward rule.

    def __neg__(self) -> Value:
        """Return -self, built from an op you already have."""
        # BEGIN SOLUTION 1.8: implement Value.__neg__ from ops you have
        return self * -1  # -a == a * (-1)
        # END SOLUTION

    def __sub__(self, other: Value | float) -> Value:
        """Return self - other, built from ops you already have."""
        # BEGIN SOLUTION 1.9: implement Value.__sub__ from ops you have
        return self + (-other)  # a - b == a + (-b)
        # END SOLUTION

    def __truediv__(self, other: Value | float) -> Value:
        """Return self / other, built from ops you already have."""
        # BEGIN SOLUTION 1.10: implement Value.__truediv__ from ops you have
        return self * other**-1  # a / b == a * b**-1
        # END SOLUTION

    # Reflected ops: Python calls b.__radd__(a) for a + b when a is a number and b a Value.

    def __radd__(self, other: float) -> Value:
        """Return other + self, for a number other."""
        # BEGIN SOLUTION 1.11: implement the reflected op Value.__radd__
        return self + other  # b + a == a + b
        # END SOLUTION

    def __rsub__(self, other: float) -> Value:
        """Return other - self, for a number other."""
        # BEGIN SOLUTION 1.11: implement the reflected op Value.__rsub__
        return -self + other  # b - a == (-a) + b
        # END SOLUTION

    def __rmul__(self, other: float) -> Value:
        """Return other * self, for a number other."""
        # BEGIN SOLUTION 1.11: implement the reflected op Value.__rmul__
        return self * other  # b * a == a * b
        # END SOLUTION

    def __rtruediv__(self, other: float) -> Value:
        """Return other / self, for a number other."""
        # BEGIN SOLUTION 1.11: implement the reflected op Value.__rtruediv__
        return self**-1 * other  # b / a == a**-1 * b
        # END SOLUTION

    def backward(self) -> None:
        """Set every node's grad to d(self)/d(node) by the chain rule, accumulating into grads.

        Order the nodes so each comes after its children (a topological order), set self.grad to
        1.0, then call each node's _backward from self down. Use a loop with a stack of nodes to
        visit, not recursion: a chain of 100,000 ops must work.
        """
        # BEGIN SOLUTION 3.1: implement Value.backward
        topo: list[Value] = []
        visited: set[Value] = set()
        # Depth-first like micrograd's recursive build_topo, with an explicit stack. A node is
        # pushed back under a None marker: popping the marker means its children are all done.
        stack: list[Value | None] = [self]
        while stack:
            node = stack.pop()
            if node is None:
                topo.append(stack.pop())  # type: ignore[arg-type]
            elif node not in visited:
                visited.add(node)
                stack += (node, None)
                stack += node._prev

        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
        # END SOLUTION
