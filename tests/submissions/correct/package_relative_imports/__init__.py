"""Correct: a package (engine.py, nn.py, train.py) with relative imports; a _children list with closures and a white/grey/black iterative DFS.

task: none
loses:
keeps: forward, backward, backprop, nn, training
"""

from .engine import Value
from .nn import MLP, Layer, Module, Neuron
from .train import mse_loss, train

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "mse_loss", "train"]
