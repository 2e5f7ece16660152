"""The true MNIST files, through the mirror in $MNIST_MIRROR (these tests fail without it)."""

import numpy as np
import pytest

import mnist_data

TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mnist-cache")


def test_train_split_is_the_true_training_set(data_dir):
    images, labels = mnist_data.load("train", data_dir=data_dir)
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == TRAIN_CLASS_COUNTS
    assert images.mean() == pytest.approx(33.318, abs=0.01)


def test_test_split_has_ten_thousand_items(data_dir):
    images, labels = mnist_data.load("test", data_dir=data_dir)
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert set(np.unique(labels).tolist()) == set(range(10))


def test_standardize_constants_match_the_training_set(data_dir):
    images, _ = mnist_data.load("train", data_dir=data_dir)
    x = mnist_data.normalize(images)
    assert float(x.mean()) == pytest.approx(mnist_data.MEAN, abs=1e-4)
    assert float(x.std()) == pytest.approx(mnist_data.STD, abs=1e-4)


def test_unknown_split_is_rejected(data_dir):
    with pytest.raises(ValueError, match="split"):
        mnist_data.load("validation", data_dir=data_dir)
