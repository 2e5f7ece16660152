"""The arrays an experiment trains and tests on, prepared once and shared by every framework."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import mnist_data
from mlp_compare.experiment import DataSpec
from mlp_numpy.preprocessing import Preprocessing, standardized

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
            train=_inputs(train, preprocessing(spec)),
            test=_inputs(test, preprocessing(spec)),
            validation=_inputs(validation, preprocessing(spec)) if validation else None,
        )
    return _cache[spec]


def preprocessing(spec: DataSpec) -> Preprocessing:
    """How the experiment turns raw images into inputs, as weight files record it."""
    if spec.scaling == "standardize":
        return standardized(mnist_data.MEAN, mnist_data.STD)
    return Preprocessing("unit")


def raw_test(spec: DataSpec) -> Pair:
    """The experiment's test images as they are on disk: uint8 (N, 28, 28), int64 labels."""
    images, labels = mnist_data.load("test")
    images, labels = _subset(images, labels, spec.test, spec.test_size, spec.seed)
    return images, labels.astype(np.int64)


def _subset(images: np.ndarray, labels: np.ndarray, kind: str, n: int, seed: int) -> Pair:
    if kind == "first":
        return mnist_data.first_n(images, labels, n)
    if kind == "random":
        return mnist_data.random_subset(images, labels, n, seed=seed)
    if kind == "stratified":
        return mnist_data.stratified_subset(images, labels, n, seed=seed)
    return images, labels


def _inputs(pair: Pair, preparation: Preprocessing) -> Pair:
    """The inputs exactly as `predict` prepares raw images from a saved file."""
    images, labels = pair
    return preparation.apply(images), labels.astype(np.int64)
