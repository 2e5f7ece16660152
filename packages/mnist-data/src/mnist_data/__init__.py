"""MNIST download (mirrors, checksums), IDX parsing and preprocessing into NumPy arrays.

>>> import mnist_data
>>> images, labels = mnist_data.load("train")   # uint8 (60000, 28, 28), uint8 (60000,)
>>> x = mnist_data.flatten(mnist_data.normalize(images))   # float32 (60000, 784) in [0, 1]
"""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mnist_data.cache import default_data_dir, resolve_data_dir
from mnist_data.download import (
    DEFAULT_MIRRORS,
    DEFAULT_TIMEOUT,
    FILES,
    SPLITS,
    DownloadError,
    ensure_files,
)
from mnist_data.idx import IdxError, check_images, check_labels, read_idx
from mnist_data.kaggle import read_csv, write_csv
from mnist_data.preprocess import (
    MEAN,
    STD,
    first_n,
    flatten,
    normalize,
    one_hot,
    random_subset,
    standardize,
    stratified_subset,
    train_val_split,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MIRRORS",
    "FILES",
    "MEAN",
    "SPLITS",
    "STD",
    "DownloadError",
    "IdxError",
    "default_data_dir",
    "first_n",
    "flatten",
    "load",
    "normalize",
    "one_hot",
    "random_subset",
    "read_csv",
    "read_idx",
    "read_split",
    "standardize",
    "stratified_subset",
    "train_val_split",
    "write_csv",
]


def load(
    split: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the `split` ("train" or "test") as uint8 images (N, 28, 28) and labels (N,).

    The files are downloaded into `data_dir` (default: `default_data_dir()`) the first
    time, from `mirrors`, then ``$MNIST_MIRROR``, then the public mirrors, and verified
    against their published checksums; later calls read the cache.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    folder = resolve_data_dir(data_dir)
    ensure_files(SPLITS[split], folder, mirrors=mirrors, timeout=timeout)
    return read_split(split, folder)


def read_split(split: str, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse the `split` files already in `folder` (no download, no checksum) and check them."""
    images_path, labels_path = (folder / name for name in SPLITS[split])
    images = check_images(read_idx(images_path), images_path.name)
    labels = check_labels(read_idx(labels_path), labels_path.name)
    if len(images) != len(labels):
        raise IdxError(
            f"{images_path.name} has {len(images)} images but {labels_path.name} "
            f"has {len(labels)} labels"
        )
    return images, labels
