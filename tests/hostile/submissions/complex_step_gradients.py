# ruff: noqa
"""Complex-step differentiation: backward() sets each node in turn to complex(x, h), evaluates
the rest of the graph again in complex numbers, and takes grad = imag(root) / h. It matches
torch to about 1e-16 on small graphs: only the cost (one evaluation of the graph per node)
tells it from backpropagation."""

import cmath

STEP = 1e-30
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


def _complex_step(self):
    order = _order(self)
    position = {id(node): i for i, node in enumerate(order)}
    for index, node in enumerate(order):
        values = [complex(n.data) for n in order]
        values[index] = complex(node.data, STEP)
        for later in range(index + 1, len(order)):
            n = order[later]
            if n._prev:
                xs = [values[position[id(c)]] for c in n._prev]
                if n._op.startswith("**"):
                    values[later] = xs[0] ** float(n._op[2:])
                else:
                    values[later] = COMPLEX[n._op](xs)
        node.grad += values[-1].imag / STEP


if ATTACK:
    Value.backward = _complex_step
