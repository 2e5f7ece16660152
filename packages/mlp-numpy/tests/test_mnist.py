"""Accuracy on real MNIST: 784-128-64-10 ReLU, He init, Adam, batch 64, 10 epochs.

Needs the MNIST files (mnist-data downloads them, from $MNIST_MIRROR when set); the
test fails, rather than skips, when they cannot be had.
"""

import numpy as np

import mlp_numpy
import mnist_data
from mlp_numpy.spec import Init, ModelSpec, Network, Optimizer, Schedule, Training


def test_reaches_97_5_percent_within_10_epochs():
    train_images, train_labels = mnist_data.load("train")
    test_images, test_labels = mnist_data.load("test")
    x = mnist_data.flatten(mnist_data.standardize(train_images))
    x_test = mnist_data.flatten(mnist_data.standardize(test_images))
    spec = ModelSpec(
        Network(layers=(784, 128, 64, 10), hidden="relu", output="softmax"),
        init=Init("he_normal"),
        training=Training(
            batch_size=64,
            epochs=10,
            seed=0,
            train_eval_size=2000,
            optimizer=Optimizer("adam"),
            schedule=Schedule(lr=0.001),
        ),
    )
    model, history = mlp_numpy.train(spec, x, train_labels, test=(x_test, test_labels))
    accuracies = [record.test_accuracy for record in history.records]
    assert len(accuracies) == 10
    assert max(accuracies) >= 0.975, accuracies
    assert np.mean(model.predict(x_test) == test_labels) == accuracies[-1]
