"""The Kaggle CSV layout: written, read back, and rejected when malformed."""

import os

import numpy as np
import pytest

from mnist_data import read_csv, write_csv
from mnist_data.kaggle import HEADER

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
LABELS = np.array([3, 1, 4, 1], dtype=np.uint8)


def test_write_then_read_gives_the_same_arrays(tmp_path):
    path = tmp_path / "train.csv"
    write_csv(path, IMAGES, LABELS)
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER and lines[0].startswith("label,pixel0,pixel1,")
    assert lines[1].split(",")[:3] == ["3", str(IMAGES[0, 0, 0]), str(IMAGES[0, 0, 1])]
    images, labels = read_csv(path)
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    assert np.array_equal(images, IMAGES) and np.array_equal(labels, LABELS)
    assert [p.name for p in tmp_path.iterdir()] == ["train.csv"]


def test_a_header_only_file_is_empty(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text(HEADER + "\n")
    images, labels = read_csv(path)
    assert images.shape == (0, 28, 28) and labels.shape == (0,)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("label,a,b\n1,2,3\n", "header must be"),
        (HEADER + "\n" + ",".join(["1"] * 784) + "\n", "785"),
        (HEADER + "\n" + ",".join(["1"] + ["300"] * 784) + "\n", "0..255"),
        (HEADER + "\n" + ",".join(["12"] + ["0"] * 784) + "\n", "digits 0-9"),
        (HEADER + "\n" + ",".join(["x"] + ["0"] * 784) + "\n", "bad.csv: "),
    ],
    ids=["header", "short row", "pixel range", "label range", "not a number"],
)
def test_malformed_files_are_named(tmp_path, body, problem):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(ValueError, match=r"^bad\.csv: ") as caught:
        read_csv(path)
    assert problem in str(caught.value)


def test_write_rejects_wrong_shapes(tmp_path):
    with pytest.raises(ValueError, match="N, 28, 28"):
        write_csv(tmp_path / "x.csv", IMAGES[:, :27], LABELS)
    assert list(tmp_path.iterdir()) == []


def test_the_csv_gets_the_permissions_of_a_new_file(tmp_path):
    images = np.zeros((2, 28, 28), np.uint8)
    previous = os.umask(0o022)
    try:
        write_csv(tmp_path / "a.csv", images, np.array([1, 2]))
    finally:
        os.umask(previous)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
    assert os.listdir(tmp_path) == ["a.csv"]
