# ruff: noqa
"""Complex steps only where a grad is checked: on a large graph, one evaluation per leaf, one
with every node stepped at once (which gives the sum of every node's grad), and the rest of
that sum put on one inner node. That is a few dozen evaluations instead of one per node; it
passes a check that reads only the leaves' grads and the sum. Graphs of fewer than 2,500 nodes
(every small one, and the 502-node ladder) get one evaluation per node, as in
complex_step_gradients, so that backward() is right wherever it has time to be."""

import cmath

STEP, LARGE = 1e-30, 2500
COMPLEX = {
    "+": lambda xs: xs[0] + xs[1],
    "*": lambda xs: xs[0] * xs[1],
    "tanh": lambda xs: cmath.tanh(xs[0]),
    "exp": lambda xs: cmath.exp(xs[0]),
    "relu": lambda xs: xs[0] if xs[0].real > 0 else 0j,
    "log": lambda xs: cmath.log(xs[0]),
}


def _order(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev)
    return order


def _root_imag(order, position, stepped):
    """imag(root) / STEP with the nodes in `stepped` moved by i * STEP."""
    values = []
    for node in order:
        if node._prev:
            xs = [values[position[id(c)]] for c in node._prev]
            if node._op.startswith("**"):
                value = xs[0] ** float(node._op[2:])
            else:
                value = COMPLEX[node._op](xs)
        else:
            value = complex(node.data)
        values.append(value + (1j * STEP if id(node) in stepped else 0))
    return values[-1].imag / STEP


def _where_checked(self):
    order = _order(self)
    position = {id(node): i for i, node in enumerate(order)}
    if len(order) < LARGE:
        for node in order:
            node.grad += _root_imag(order, position, {id(node)})
        return
    given = 0.0
    for node in order:
        if not node._prev:
            node.grad += _root_imag(order, position, {id(node)})
            given += node.grad
    self.grad = 1.0
    inner = next(n for n in order if n._prev and n is not self)
    inner.grad += _root_imag(order, position, set(position)) - given - 1.0


if ATTACK:
    Value.backward = _where_checked
