"""Shared fixtures: real MNIST (through mnist-data, a test-only dependency), and the device
the tests train on: `MLP_JAX_TEST_DEVICE` (default "cpu"; e.g. "gpu" on a GPU machine,
where an unavailable device fails the tests by name rather than skipping them).

The process runs on one CPU, set before JAX starts (`mlp_jax.set_threads(1)`): XLA's CPU
pool has one thread, and so has the reference's BLAS. These networks are small, and on a
busy machine threads that wait for each other cost far more than they compute."""

from __future__ import annotations

import os

import numpy as np
import pytest

import mlp_jax
import mnist_data

mlp_jax.set_threads(1)

DEVICE_VARIABLE = "MLP_JAX_TEST_DEVICE"


@pytest.fixture(scope="session")
def device() -> str:
    """The device to train on, from `MLP_JAX_TEST_DEVICE`."""
    return os.environ.get(DEVICE_VARIABLE, "cpu")


def _split(name: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist_data.load(name)  # fails, never skips, when the data is missing
    return mnist_data.flatten(mnist_data.normalize(images)), labels.astype(np.int64)


@pytest.fixture(scope="session")
def mnist_train() -> tuple[np.ndarray, np.ndarray]:
    """The 60 000 training images as float32 rows in [0, 1], and their labels."""
    return _split("train")


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10 000 test images as float32 rows in [0, 1], and their labels."""
    return _split("test")
