"""The Kaggle "Digit Recognizer" CSV layout: a header row, then one row per image.

Each row is ``label,pixel0,...,pixel783`` with integers 0-255 (pixel k is row k // 28,
column k % 28). Reading gives the same arrays as `mnist_data.load`.
"""

import io
import os
from pathlib import Path

import numpy as np

from mnist_data.files import atomic_write

PIXELS = 28 * 28
HEADER = ",".join(["label", *(f"pixel{k}" for k in range(PIXELS))])


def read_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a Kaggle-layout CSV into uint8 images (N, 28, 28) and labels (N,)."""
    path = Path(path)
    with path.open() as f:
        header = f.readline().strip().split(",")
        if len(header) != 1 + PIXELS or header[0] != "label":
            raise ValueError(
                f"{path.name}: header must be 'label' then {PIXELS} pixel columns, "
                f"found {len(header)} columns starting {header[0]!r}"
            )
        rows = f.read()
    if not rows.strip():
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    try:
        table = np.loadtxt(io.StringIO(rows), delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None
    if table.shape[1] != 1 + PIXELS:
        raise ValueError(f"{path.name}: rows have {table.shape[1]} columns, expected {1 + PIXELS}")
    if table.min(initial=0) < 0 or table[:, 1:].max(initial=0) > 255:
        raise ValueError(f"{path.name}: pixel values must lie in 0..255")
    if table[:, 0].max(initial=0) > 9:
        raise ValueError(f"{path.name}: labels must be digits 0-9")
    return table[:, 1:].astype(np.uint8).reshape(-1, 28, 28), table[:, 0].astype(np.uint8)


def write_csv(path: str | os.PathLike[str], images: np.ndarray, labels: np.ndarray) -> None:
    """Write images (N, 28, 28) and labels (N,) as a Kaggle-layout CSV, atomically."""
    path = Path(path)
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.shape[1:] != (28, 28) or labels.shape != (len(images),):
        raise ValueError(
            f"need images (N, 28, 28) and labels (N,), got {images.shape} and {labels.shape}"
        )
    table = np.column_stack([labels.reshape(-1, 1), images.reshape(len(images), -1)]).astype(int)
    with atomic_write(path, "w") as out:
        np.savetxt(out, table, fmt="%d", delimiter=",", header=HEADER, comments="")
