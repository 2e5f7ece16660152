"""Shared test data: real MNIST from mnist-data (downloaded from $MNIST_MIRROR when set).

The tests fail, rather than skip, when the files cannot be had.
"""

import numpy as np
import pytest

import mnist_data


def _split(name: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist_data.load(name)
    return mnist_data.flatten(mnist_data.standardize(images)), labels.astype(np.int64)


@pytest.fixture(scope="session")
def mnist_train() -> tuple[np.ndarray, np.ndarray]:
    """The 60 000 training images as standardized float32 rows, and their labels."""
    return _split("train")


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10 000 test images as standardized float32 rows, and their labels."""
    return _split("test")
