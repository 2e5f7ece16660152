"""A multilayer perceptron written from scratch in NumPy: the reference model, spec and weights."""

__version__ = "0.1.0"
