"""The reference mse_loss and train against the same loss and loop in PyTorch."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import torch

from solutions import MLP, Value, mse_loss, train

XS = [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]
YS = [1, -1, -1, 1]


def test_mse_loss_is_the_mean_squared_difference_with_torch_gradients() -> None:
    predictions = [Value(x) for x in (0.5, -2.0, 1.25)]
    targets = [1, Value(-1.5), 0.0]
    loss = mse_loss(predictions, targets)
    loss.backward()

    p = torch.tensor([0.5, -2.0, 1.25], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([1.0, -1.5, 0.0], dtype=torch.float64, requires_grad=True)
    expected = torch.nn.functional.mse_loss(p, t)
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), rel=1e-12)
    assert [v.grad for v in predictions] == pytest.approx(p.grad.tolist(), rel=1e-12)
    assert targets[1].grad == pytest.approx(t.grad[1].item(), rel=1e-12)


def test_train_returns_one_float_per_step_the_loss_before_the_update() -> None:
    random.seed(0)
    model = MLP(3, [4, 1])
    initial = mse_loss([model(x) for x in XS], YS).data
    losses = train(model, XS, YS, steps=3)
    assert len(losses) == 3 and all(isinstance(loss, float) for loss in losses)
    assert losses[0] == initial


def test_train_drives_the_loss_down_on_the_toy_data() -> None:
    random.seed(1337)
    losses = train(MLP(3, [4, 4, 1]), XS, YS, steps=50, lr=0.1)
    assert losses[-1] < 0.05 < losses[0]


@pytest.mark.parametrize(
    ("activation", "output_activation"), [("tanh", "tanh"), ("relu", "linear")]
)
def test_train_matches_a_torch_loop_from_the_same_weights(
    torch_mlp: Callable[..., Any], activation: str, output_activation: str
) -> None:
    random.seed(42)
    model = MLP(3, [4, 4, 1], activation, output_activation)
    reference = torch_mlp(model, nin=3)
    targets = torch.tensor(YS, dtype=torch.float64)
    expected_losses = []
    for _ in range(20):
        predictions = torch.cat([reference(x) for x in XS])
        loss = ((predictions - targets) ** 2).mean()
        for p in reference.parameters():
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in reference.parameters():
                p -= 0.05 * p.grad
        expected_losses.append(loss.item())

    assert train(model, XS, YS) == pytest.approx(expected_losses, rel=1e-12)
    predictions = [model(x).data for x in XS]
    assert predictions == pytest.approx([reference(x).item() for x in XS], rel=1e-12)
