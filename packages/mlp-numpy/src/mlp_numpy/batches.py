"""Batch order (docs/model-spec.md#batch-order): which samples each step sees.

Every backend trains on these index batches, so one seed means the same samples in
the same order in every framework.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EpochBatches:
    """The sample order of one epoch, cut into consecutive slices of `batch_size`."""

    order: np.ndarray
    batch_size: int

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __iter__(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self.order), self.batch_size):
            yield self.order[start : start + self.batch_size]

    def sizes(self) -> np.ndarray:
        """The number of samples in each step."""
        sizes = np.full(len(self), self.batch_size, dtype=np.int64)
        if len(self.order) % self.batch_size:
            sizes[-1] = len(self.order) % self.batch_size
        return sizes


def epoch_batches(
    n: int,
    batch_size: int | None,
    seed: int,
    epoch: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
) -> EpochBatches:
    """The batches of epoch `epoch` (from 0) over `n` samples.

    order = default_rng([seed, 1, epoch]).permutation(n) when shuffling, else 0..n−1;
    `batch_size=None` means the full set; with `drop_last` a short last slice is cut.
    """
    if n < 1:
        raise ValueError(f"n: need at least one sample, got {n}")
    batch_size = n if batch_size is None else batch_size
    if batch_size < 1:
        raise ValueError(f"batch_size: must be at least 1, got {batch_size}")
    if drop_last and batch_size > n:
        raise ValueError(f"batch_size: {batch_size} > {n} samples leaves no batch with drop_last")
    rng = np.random.default_rng([seed, 1, epoch])
    order = (rng.permutation(n) if shuffle else np.arange(n)).astype(np.int64, copy=False)
    if drop_last:
        order = order[: n - n % batch_size]
    return EpochBatches(order=order, batch_size=batch_size)
