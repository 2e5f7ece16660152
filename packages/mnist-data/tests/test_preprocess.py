"""Preprocessing and subsets on small arrays whose answers are known by construction."""

import numpy as np
import pytest

from mnist_data import (
    first_n,
    flatten,
    normalize,
    one_hot,
    random_subset,
    standardize,
    stratified_subset,
    train_val_split,
)

# 100 items; image i is filled with the value i, so every subset shows which items it took.
LABELS = np.repeat(np.arange(10, dtype=np.uint8), np.arange(1, 11) * 2 - 1)  # 1, 3, ..., 19
N = len(LABELS)
IMAGES = np.broadcast_to(np.arange(N, dtype=np.uint8)[:, None, None], (N, 28, 28)).copy()


def item_ids(images: np.ndarray) -> list[int]:
    return images[:, 0, 0].tolist()


def test_normalize_maps_0_255_to_0_1_as_float32():
    x = normalize(np.array([[0, 51, 255]], dtype=np.uint8))
    assert x.dtype == np.float32
    assert x.tolist() == [[0.0, pytest.approx(0.2), 1.0]]


def test_standardize_uses_the_mnist_mean_and_std():
    x = standardize(np.array([0, 255], dtype=np.uint8))
    assert x.dtype == np.float32
    assert x.tolist() == pytest.approx([-0.1307 / 0.3081, (1 - 0.1307) / 0.3081], rel=1e-6)


def test_flatten_is_row_major():
    flat = flatten(np.arange(2 * 28 * 28).reshape(2, 28, 28))
    assert flat.shape == (2, 784)
    assert flat[1, 28 * 3 + 5] == 784 + 28 * 3 + 5


def test_one_hot():
    targets = one_hot(np.array([3, 0, 9]))
    assert targets.dtype == np.float32 and targets.shape == (3, 10)
    assert targets.argmax(axis=1).tolist() == [3, 0, 9]
    assert targets.sum(axis=1).tolist() == [1, 1, 1]


def test_one_hot_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match=r"0\.\.9"):
        one_hot(np.array([1, 10]))


def test_first_n_keeps_file_order():
    images, labels = first_n(IMAGES, LABELS, 7)
    assert item_ids(images) == list(range(7)) and labels.tolist() == LABELS[:7].tolist()


@pytest.mark.parametrize("n", [-1, N + 1])
def test_sizes_outside_the_set_are_rejected(n):
    with pytest.raises(ValueError, match=f"n = {n} is outside 0..{N}"):
        random_subset(IMAGES, LABELS, n, seed=0)


def test_random_subset_is_seeded_distinct_and_in_file_order():
    images, labels = random_subset(IMAGES, LABELS, 30, seed=5)
    ids = item_ids(images)
    assert len(set(ids)) == 30 and ids == sorted(ids)
    assert labels.tolist() == LABELS[ids].tolist()
    assert item_ids(random_subset(IMAGES, LABELS, 30, seed=5)[0]) == ids
    assert item_ids(random_subset(IMAGES, LABELS, 30, seed=6)[0]) != ids


def test_stratified_subset_follows_class_proportions():
    _, full_counts = np.unique(LABELS, return_counts=True)
    images, labels = stratified_subset(IMAGES, LABELS, 50, seed=1)
    ids = item_ids(images)
    assert len(set(ids)) == 50 and ids == sorted(ids)
    assert labels.tolist() == LABELS[ids].tolist()
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == 50
    assert np.all(np.abs(counts - full_counts * 50 / N) < 1)
    assert item_ids(stratified_subset(IMAGES, LABELS, 50, seed=1)[0]) == ids
    assert item_ids(stratified_subset(IMAGES, LABELS, 50, seed=2)[0]) != ids


def test_train_val_split_partitions_the_set():
    (train_x, train_y), (val_x, val_y) = train_val_split(IMAGES, LABELS, 20, seed=3)
    train_ids, val_ids = item_ids(train_x), item_ids(val_x)
    assert len(val_ids) == 20 and len(train_ids) == 80
    assert sorted(train_ids + val_ids) == list(range(N))
    assert train_ids == sorted(train_ids) and val_ids == sorted(val_ids)
    assert val_y.tolist() == LABELS[val_ids].tolist()
    assert train_y.tolist() == LABELS[train_ids].tolist()
    (_, _), (again, _) = train_val_split(IMAGES, LABELS, 20, seed=3)
    assert item_ids(again) == val_ids
