# ruff: noqa
"""Finite-difference gradients: backward() perturbs every node by +-h and re-evaluates the graph
(central differences), instead of applying the chain rule."""

import math

H = 1e-5
EVALUATE = {
    "+": lambda xs, op: xs[0] + xs[1],
    "*": lambda xs, op: xs[0] * xs[1],
    "tanh": lambda xs, op: math.tanh(xs[0]),
    "exp": lambda xs, op: math.exp(xs[0]),
    "relu": lambda xs, op: max(0.0, xs[0]),
    "log": lambda xs, op: math.log(xs[0]),
}


def _evaluate(node):
    xs = [child.data for child in node._prev]
    if node._op.startswith("**"):
        return xs[0] ** float(node._op[2:])
    return EVALUATE[node._op](xs, node._op)


def _topological_order(root):
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


def _root_after(order, index, value):
    """The root's value with order[index].data set to `value`, everything after recomputed."""
    saved = [node.data for node in order]
    order[index].data = value
    for node in order[index + 1 :]:
        if node._prev:
            node.data = _evaluate(node)
    result = order[-1].data
    for node, data in zip(order, saved):
        node.data = data
    return result


def _finite_differences(self):
    order = _topological_order(self)
    for index, node in enumerate(order):
        up = _root_after(order, index, node.data + H)
        down = _root_after(order, index, node.data - H)
        node.grad += (up - down) / (2 * H)


if ATTACK:
    Value.backward = _finite_differences
