# Generated from solutions/ by `python -m grader stubs` (maintainers: edit solutions/ instead).
"""The mean squared error loss and a gradient-descent training loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from .engine import Value
from .nn import MLP


def mse_loss(predictions: Sequence[Value], targets: Sequence[Value | float]) -> Value:
    """Return the mean of (prediction - target) ** 2 over the pairs, as a Value.

    Build it from Value ops, so that loss.backward() reaches every prediction.
    """
    raise NotImplementedError("Task 5.1: implement mse_loss")


def train(
    model: MLP,
    xs: Sequence[Sequence[Value | float]],
    ys: Sequence[Value | float],
    steps: int = 20,
    lr: float = 0.05,
) -> list[float]:
    """Fit a one-output model to (xs, ys) by gradient descent; return each step's loss as a float.

    Each step: predict every x, take the mse_loss, zero the grads, backward, then move every
    parameter against its gradient: p.data -= lr * p.grad. Record the loss before the update.
    """
    raise NotImplementedError("Task 5.2: implement train")
