"""The mlp-numpy reference network in PyTorch, on CPU and CUDA."""

__version__ = "0.1.0"
