"""scratchgrad's grader: grade a from-scratch autograd submission against PyTorch."""

__version__ = "0.1.0"
