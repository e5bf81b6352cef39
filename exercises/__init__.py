# Generated from solutions/ by `python -m grader stubs` (maintainers: edit solutions/ instead).
"""A scalar autograd engine (engine), neurons, layers and MLPs (nn), and training (train)."""

from .engine import Value
from .nn import MLP, Layer, Module, Neuron
from .train import mse_loss, train

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]
