"""Train one MLP with NumPy, PyTorch and TensorFlow on every device; report why results differ."""

__version__ = "0.1.0"
