"""Checks of what a user passes in, and one-hot targets, shared by every backend.

Each check returns the array it accepted, so a backend converts once:

    x = check_inputs(x, network.layers[0])        # (N, features), any real dtype
    labels = check_labels(labels, len(x), classes)  # (N,) integers in [0, classes)
    y = one_hot(labels, classes, np.float32)       # (N, classes), y[i, labels[i]] = 1
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


def check_inputs(x: ArrayLike, features: int, name: str = "x") -> np.ndarray:
    """`x` as an array of shape (N, features) with a real (integer or float) dtype."""
    array = np.asarray(x)
    if array.ndim != 2 or array.shape[1] != features:
        raise ValueError(f"{name}: expected shape (N, {features}), got {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name}: expected real numbers, got dtype {array.dtype}")
    return array


def check_labels(
    labels: ArrayLike, n: int | None, classes: int, name: str = "labels"
) -> np.ndarray:
    """`labels` as a 1-D integer array of `n` class indices (any length when `n` is None),
    each in [0, classes)."""
    array = np.asarray(labels)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name}: expected a 1-D integer array, got {array.dtype} {array.shape}")
    if n is not None and len(array) != n:
        raise ValueError(f"{name}: {len(array)} labels for {n} samples")
    if len(array) and (array.min() < 0 or array.max() >= classes):
        raise ValueError(
            f"{name}: values must be in [0, {classes}), got {array.min()}..{array.max()}"
        )
    return array


def one_hot(labels: ArrayLike, classes: int, dtype: DTypeLike = np.float32) -> np.ndarray:
    """(N,) class indices as (N, classes) rows of zeros with a one at the label."""
    labels = check_labels(labels, None, classes)
    targets = np.zeros((len(labels), classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1
    return targets
