"""MNIST download (mirrors, checksums), IDX parsing and preprocessing into NumPy arrays."""

__version__ = "0.1.0"
