"""A PyTorch mirror of solutions.MLP, built from the MLP's parameters() as the grader does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import torch

from solutions import MLP

ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "linear": lambda t: t,
}


class TorchMLP:
    """The same network in float64 torch: one weight vector and one bias tensor per neuron."""

    def __init__(self, model: MLP, nin: int) -> None:
        flat = iter([p.data for p in model.parameters()])
        self.layers: list[tuple[list[tuple[torch.Tensor, torch.Tensor]], str]] = []
        for layer in model.layers:
            neurons = [
                (_leaf([next(flat) for _ in range(nin)]), _leaf(next(flat))) for _ in layer.neurons
            ]
            self.layers.append((neurons, layer.neurons[0].activation))
            nin = len(neurons)
        assert next(flat, None) is None, "parameters() has more Values than the layers hold"

    def __call__(self, x: Sequence[float]) -> torch.Tensor:
        h = torch.tensor(x, dtype=torch.float64)
        for neurons, activation in self.layers:
            h = ACTIVATION_FUNCTIONS[activation](torch.stack([w @ h + b for w, b in neurons]))
        return h

    def parameters(self) -> list[torch.Tensor]:
        """Return the leaf tensors in the order of MLP.parameters(): each neuron's w, then b."""
        return [t for neurons, _ in self.layers for w, b in neurons for t in (w, b)]

    def flat_grads(self) -> list[float]:
        """Return the gradients in the order of MLP.parameters(), zeros where there is none."""
        return [g for p in self.parameters() for g in _flat(p.grad, p.numel())]


def _leaf(data: float | list[float]) -> torch.Tensor:
    return torch.tensor(data, dtype=torch.float64, requires_grad=True)


def _flat(grad: torch.Tensor | None, size: int) -> list[float]:
    return [0.0] * size if grad is None else grad.reshape(-1).tolist()


@pytest.fixture
def torch_mlp() -> type[TorchMLP]:
    """Return TorchMLP, to build as torch_mlp(model, nin)."""
    return TorchMLP
