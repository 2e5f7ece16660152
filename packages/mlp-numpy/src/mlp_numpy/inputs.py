"""Checks of what a user passes in, and the targets a loss compares outputs with, shared
by every backend (docs/model-spec.md#data).

Each check returns the array it accepted, so a backend converts once:

    x = check_inputs(x, network.layers[0])          # (N, features), real and finite
    labels = check_targets(labels, len(x), network)  # the task's labels or target values
    y = training_targets(labels, network, np.float32)  # (N, K), what the loss compares a with

Every error is a `ValueError` whose message starts with the argument's name and says how
to fix the data, e.g. for labels given as class names `labels: expected a 1-D integer
array, got <U5 (150,); these are not class indices: number the classes 0 … 2 with
classes, labels = np.unique(labels, return_inverse=True) (…)`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .spec import Network

UNIQUE = "classes, labels = np.unique(labels, return_inverse=True)"  # the hint for strings


def check_inputs(x: ArrayLike, features: int, name: str = "x") -> np.ndarray:
    """`x` as an array of shape (N, features) with a real (integer or float) dtype and
    finite values."""
    array = np.asarray(x)
    if array.ndim != 2 or array.shape[1] != features:
        hint = ""
        if array.ndim == 1 and features == 1:
            hint = f"; one feature per sample: pass {name}[:, None]"
        elif array.shape == (features,):
            hint = f"; one sample: pass {name}[None, :]"
        raise ValueError(f"{name}: expected shape (N, {features}), got {array.shape}{hint}")
    if array.dtype == np.bool_:
        raise ValueError(
            f"{name}: expected real numbers, got dtype bool; pass {name}.astype(float)"
        )
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name}: expected real numbers, got dtype {array.dtype}")
    # min and max are NaN when any value is, and ±inf when one is: two passes, no copy.
    floating = np.issubdtype(array.dtype, np.floating) and array.size
    if floating and not (np.isfinite(array.min()) and np.isfinite(array.max())):
        bad = np.argwhere(~np.isfinite(array))
        row, column = bad[0]
        count = f"{len(bad)} values are" if len(bad) > 1 else "1 value is"
        raise ValueError(
            f"{name}: {count} NaN or infinite (the first at row {row}, column {column}), "
            "and a network computes nothing meaningful from them: keep the other rows, "
            f"rows = np.isfinite({name}).all(axis=1), then {name}[rows] (and labels[rows]), "
            f"or fill them in, e.g. with each column's mean np.nanmean({name}, axis=0)"
        )
    return array


def check_training_inputs(x: ArrayLike, features: int, name: str = "x") -> np.ndarray:
    """`check_inputs`, and not raw uint8 pixels: a model's `predict` prepares uint8 arrays
    as raw images (`mlp_numpy.preprocessing`), so a network trained on them as they are
    would be refused them later. The message says how to convert them."""
    array = check_inputs(x, features, name)
    if array.dtype == np.uint8:
        raise ValueError(
            f"{name}: uint8 values, which predict takes for raw images and prepares, so it "
            f"would not see them as training did; convert them first, e.g. "
            f"{name}.astype(np.float32) / 255, and to predict from raw images later, save "
            'the model with model.save(path, preprocessing=Preprocessing("unit", '
            f"input_shape=({features},))) (mlp_numpy.preprocessing)"
        )
    return array


def check_labels(
    labels: ArrayLike, n: int | None, classes: int, name: str = "labels"
) -> np.ndarray:
    """`labels` as a 1-D integer array of `n` class indices (any length when `n` is None),
    each in [0, classes). Booleans count as 0 and 1."""
    array = np.asarray(labels)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{name}: expected a 1-D integer array, got {array.dtype} {array.shape}"
            + _label_hint(array, classes)
        )
    _check_count(array, n, name)
    if len(array) and (array.min() < 0 or array.max() >= classes):
        low, high = array.min(), array.max()
        if low == 1 and high == classes:
            hint = "; they look numbered from 1: pass labels - 1"
        elif low >= 0:
            hint = (
                f"; the output layer has {classes} units, one per class: "
                f"make network.layers end in {high + 1}, or number the classes 0 … "
                f"{classes - 1} with {UNIQUE}"
            )
        else:
            hint = f"; number the classes 0 … {classes - 1} with {UNIQUE}"
        raise ValueError(f"{name}: values must be in [0, {classes}), got {low}..{high}{hint}")
    return array


def _label_hint(array: np.ndarray, classes: int) -> str:
    """What to do with labels that are not a 1-D integer array."""
    if array.dtype.kind in "USO":
        return (
            f"; these are not class indices: number the classes 0 … {classes - 1} "
            f"with {UNIQUE} (classes[i] is then the name of class i)"
        )
    if array.ndim == 2 and np.issubdtype(array.dtype, np.number) and _is_one_hot(array):
        return "; these are one-hot rows: pass labels.argmax(axis=1), the class indices"
    if array.ndim == 2 and array.shape[1] == 1:
        return "; a column: pass labels.ravel()"
    if array.ndim == 1 and np.issubdtype(array.dtype, np.floating):
        if np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            return "; they are whole numbers: pass labels.astype(np.int64)"
        return (
            '; real-valued targets are for a regression network (network.task = "regression", '
            'output = "identity", loss "mse")'
        )
    return ""


def _is_one_hot(array: np.ndarray) -> bool:
    return bool(np.isin(array, (0, 1)).all() and (array.sum(axis=1) == 1).all())


def _check_count(array: np.ndarray, n: int | None, name: str) -> None:
    if n is not None and len(array) != n:
        raise ValueError(f"{name}: {len(array)} labels for {n} samples")


def check_binary_labels(labels: ArrayLike, n: int | None, name: str = "labels") -> np.ndarray:
    """`labels` of a binary classifier as a 1-D int64 array of 0s and 1s. Booleans, and
    floats that are all 0.0 or 1.0, are accepted as 0 and 1."""
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 2 and _is_one_hot(array):
        raise ValueError(
            f"{name}: expected a 1-D array of 0/1 labels, got one-hot rows {array.shape}; "
            "pass labels.argmax(axis=1)"
        )
    if array.ndim != 1:
        column = array.ndim == 2 and array.shape[1] == 1
        hint = "; a column: pass labels.ravel()" if column else ""
        raise ValueError(
            f"{name}: expected a 1-D array of 0/1 labels, got shape {array.shape}{hint}"
        )
    if array.dtype.kind in "USO":
        raise ValueError(
            f"{name}: expected 0/1 labels, got {array.dtype}; number the two classes 0 and 1 "
            f"with {UNIQUE}"
        )
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.number)):
        raise ValueError(f"{name}: expected 0/1 labels, got dtype {array.dtype}")
    _check_count(array, n, name)
    values = np.unique(array)
    if not np.isin(values, (0, 1)).all():
        shown = ", ".join(map(str, values[:4])) + (", …" if len(values) > 4 else "")
        hint = (
            f"mark the positive class, e.g. (labels == {values[-1]}).astype(int)"
            if len(values) == 2
            else f"a binary classifier has two classes, these are {len(values)}: for more "
            'use task = "classification" with one output per class'
        )
        raise ValueError(f"{name}: values must be 0 or 1, got {shown}; {hint}")
    return array.astype(np.int64)


def check_regression_targets(
    targets: ArrayLike, n: int | None, outputs: int, name: str = "labels"
) -> np.ndarray:
    """Real-valued targets as a float array: (N,) or (N, 1) for one output, (N, outputs)
    for several; every value finite."""
    array = np.asarray(targets)
    real = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    if not real:
        raise ValueError(f"{name}: expected real-valued targets, got dtype {array.dtype}")
    shapes = "(N,) or (N, 1)" if outputs == 1 else f"(N, {outputs})"
    if not ((array.ndim == 1 and outputs == 1) or (array.ndim == 2 and array.shape[1] == outputs)):
        raise ValueError(
            f"{name}: expected targets of shape {shapes} for {outputs} output(s), "
            f"got {array.shape}; the output layer has one unit per target value"
        )
    _check_count(array, n, name)
    bad = int((~np.isfinite(array)).sum())
    if bad:
        count = f"{bad} target values are" if bad > 1 else "1 target value is"
        raise ValueError(f"{name}: {count} NaN or infinite; drop those samples or fill them in")
    return array.astype(np.float64, copy=False)


def check_targets(
    labels: ArrayLike, n: int | None, network: Network, name: str = "labels"
) -> np.ndarray:
    """What `network.task` takes as labels, checked: class indices (int, (N,)) for
    "classification", 0/1 (int64, (N,)) for "binary", real values (float64, (N,) or
    (N, K)) for "regression"."""
    if network.task == "binary":
        return check_binary_labels(labels, n, name)
    if network.task == "regression":
        return check_regression_targets(labels, n, network.layers[-1], name)
    return check_labels(labels, n, network.layers[-1], name)


def one_hot(labels: ArrayLike, classes: int, dtype: DTypeLike = np.float32) -> np.ndarray:
    """(N,) class indices as (N, classes) rows of zeros with a one at the label."""
    labels = check_labels(labels, None, classes)
    targets = np.zeros((len(labels), classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1
    return targets


def training_targets(
    labels: ArrayLike, network: Network, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """The (N, K) targets y that the loss compares the outputs a with, in `dtype`:

    classification  one-hot rows, y[n, labels[n]] = 1      (N, K)
    binary          the 0/1 labels as a column             (N, 1)
    regression      the target values; (N,) becomes (N, 1)  (N, K)
    """
    labels = check_targets(labels, None, network)
    if network.task == "classification":
        return one_hot(labels, network.layers[-1], dtype)
    return np.asarray(labels, dtype=dtype).reshape(len(labels), network.layers[-1])
