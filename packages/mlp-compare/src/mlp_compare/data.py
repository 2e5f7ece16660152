"""The arrays an experiment trains and tests on, prepared once and shared by every framework."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import mnist_data
from mlp_compare.experiment import DataSpec

Pair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Dataset:
    """Flattened, scaled float32 inputs (N, 784) and int64 labels (N,)."""

    train: Pair
    test: Pair
    validation: Pair | None

    def sizes(self) -> dict[str, int]:
        sizes = {"train": len(self.train[1]), "test": len(self.test[1])}
        sizes["validation"] = len(self.validation[1]) if self.validation else 0
        return sizes


_cache: dict[DataSpec, Dataset] = {}


def prepare(spec: DataSpec) -> Dataset:
    """Load MNIST (downloading it once) and apply the experiment's [data] section."""
    if spec not in _cache:
        train_images, train_labels = mnist_data.load("train")
        test_images, test_labels = mnist_data.load("test")
        validation = None
        if spec.validation_size:
            (train_images, train_labels), validation = mnist_data.train_val_split(
                train_images, train_labels, spec.validation_size, seed=spec.seed
            )
        train = _subset(train_images, train_labels, spec.train, spec.train_size, spec.seed)
        test = _subset(test_images, test_labels, spec.test, spec.test_size, spec.seed)
        _cache[spec] = Dataset(
            train=_inputs(train, spec.scaling),
            test=_inputs(test, spec.scaling),
            validation=_inputs(validation, spec.scaling) if validation else None,
        )
    return _cache[spec]


def _subset(images: np.ndarray, labels: np.ndarray, kind: str, n: int, seed: int) -> Pair:
    if kind == "first":
        return mnist_data.first_n(images, labels, n)
    if kind == "random":
        return mnist_data.random_subset(images, labels, n, seed=seed)
    if kind == "stratified":
        return mnist_data.stratified_subset(images, labels, n, seed=seed)
    return images, labels


def _inputs(pair: Pair, scaling: str) -> Pair:
    images, labels = pair
    scaled = (
        mnist_data.standardize(images) if scaling == "standardize" else mnist_data.normalize(images)
    )
    return mnist_data.flatten(scaled), labels.astype(np.int64)
