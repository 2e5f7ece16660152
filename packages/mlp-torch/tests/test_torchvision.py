"""mnist-data and torchvision.datasets.MNIST read the same arrays from the same files.

torchvision is not a dependency: where it does not import (on CPU-only PyTorch builds
its import can fail with a RuntimeError rather than an ImportError), the check reports
why it did not run, and the test asserts that report instead of skipping silently.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import mnist_data


@dataclass(frozen=True)
class CrossCheck:
    ran: bool
    reason: str  # what was compared, or why the comparison could not run


def torchvision_cross_check() -> CrossCheck:
    """Compare both splits as read by mnist-data and by torchvision from one set of files."""
    try:
        from torchvision.datasets import MNIST
    except Exception as error:  # ImportError, or RuntimeError from a mismatched build
        return CrossCheck(False, f"torchvision does not import: {type(error).__name__}: {error}")
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        source = mnist_data.default_data_dir()
        for split in ("train", "test"):
            mnist_data.load(split)  # makes sure the verified files are in the cache
        for name in mnist_data.FILES:
            with (
                gzip.open(source / name) as packed,
                open(raw / name.removesuffix(".gz"), "wb") as out,
            ):
                shutil.copyfileobj(packed, out)
        for split in ("train", "test"):
            images, labels = mnist_data.load(split)
            theirs = MNIST(root, train=split == "train", download=False)
            np.testing.assert_array_equal(theirs.data.numpy(), images)
            np.testing.assert_array_equal(theirs.targets.numpy(), labels)
    return CrossCheck(True, "train and test images and labels are identical")


def test_mnist_data_reads_what_torchvision_reads():
    result = torchvision_cross_check()
    print(f"torchvision cross-check: ran={result.ran}: {result.reason}")
    if result.ran:
        assert result.reason == "train and test images and labels are identical"
    else:
        assert result.reason.startswith("torchvision does not import: ")
        assert "Error" in result.reason  # names the exception that stopped it
