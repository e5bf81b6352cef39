# ruff: noqa
"""Importing torch inside the submission, to let it compute the gradients."""

if ATTACK:
    import torch
