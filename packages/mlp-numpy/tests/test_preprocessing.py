"""The input preprocessing: the same inputs as training, recorded in the file, applied by
`predict` to raw uint8 images, and a network trained on standardized pixels that predicts
raw test images with the accuracy training reported."""

import numpy as np
import pytest

import mlp_numpy
import mnist_data
from mlp_numpy.preprocessing import (
    Preprocessing,
    PreprocessingError,
    prepare_inputs,
    standardized,
)
from mlp_numpy.spec import Init, ModelSpec, Network, Optimizer, Schedule, Training


@pytest.fixture(scope="module")
def test_images():
    return mnist_data.load("test")


def test_the_inputs_are_mnist_datas_training_inputs_bit_for_bit(test_images):
    images, _ = test_images
    for preparation, expected in (
        (Preprocessing("unit"), mnist_data.normalize(images)),
        (standardized(), mnist_data.standardize(images)),
        (Preprocessing("none"), images.astype(np.float32)),
    ):
        x = preparation.apply(images)
        assert x.dtype == np.float32 and x.shape == (10_000, 784)
        assert x.tobytes() == mnist_data.flatten(expected).tobytes()
        assert preparation.apply(images.reshape(-1, 784)).tobytes() == x.tobytes()


def test_standardized_defaults_are_mnist_datas():
    assert standardized() == Preprocessing("standardize", mnist_data.MEAN, mnist_data.STD)


def test_float_input_passes_through_untouched():
    x = np.random.default_rng(0).normal(size=(3, 784))
    assert prepare_inputs(x, standardized()) is x
    assert prepare_inputs(x, None) is x
    integers = np.arange(6).reshape(2, 3)  # not uint8: taken as prepared inputs too
    assert prepare_inputs(integers, Preprocessing("unit")) is integers


def test_raw_images_without_a_preprocessing_are_an_error():
    with pytest.raises(PreprocessingError, match="version 1 weight file records no prepro"):
        prepare_inputs(np.zeros((2, 784), np.uint8), None)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 27, 28), np.uint8), r"expected shape \(N, 28, 28\) or \(N, 784\), got"),
        (np.zeros(784, np.uint8), r"got \(784,\)"),
        (np.zeros((2, 784), np.float32), "expected raw uint8 pixels, got dtype float32"),
    ],
)
def test_bad_images_are_named(images, message):
    with pytest.raises(PreprocessingError, match=message):
        Preprocessing("unit").apply(images)


def test_dict_round_trip():
    for preparation in (standardized(), Preprocessing("none", input_shape=(2, 3))):
        assert Preprocessing.from_dict(preparation.to_dict()) == preparation
    assert standardized().to_dict() == {
        "scaling": "standardize",
        "mean": 0.1307,
        "std": 0.3081,
        "input_shape": [28, 28],
    }
    assert Preprocessing("unit").to_dict() == {"scaling": "unit", "input_shape": [28, 28]}


@pytest.mark.parametrize(
    "document, message",
    [
        ([], "a JSON object"),
        ({"input_shape": [4]}, "preprocessing.scaling: missing"),
        ({"scaling": "unit", "input_shape": [0]}, "positive integers"),
        ({"scaling": "unit", "input_shape": [True]}, "positive integers"),
        ({"scaling": "unit", "input_shape": []}, "positive integers"),
        ({"scaling": "unit", "input_shape": "28x28"}, "positive integers"),
        ({"scaling": "standardize", "mean": 0, "std": -1, "input_shape": [4]}, "positive"),
        ({"scaling": "standardize", "mean": True, "std": 1, "input_shape": [4]}, "mean: a fin"),
        ({"scaling": "standardize", "mean": 0, "std": 1e999, "input_shape": [4]}, "std: a fin"),
    ],
)
def test_bad_descriptions_are_named(document, message):
    with pytest.raises(PreprocessingError, match=message):
        Preprocessing.from_dict(document)


def test_a_standardized_network_predicts_raw_images_with_its_training_accuracy(
    tmp_path, test_images
):
    """Trained on standardized pixels, saved with its preprocessing, loaded and given the
    raw uint8 test images: the accuracy that training reported, to the image."""
    train_images, train_labels = mnist_data.load("train")
    preparation = standardized()
    x, labels = mnist_data.first_n(preparation.apply(train_images), train_labels, 5000)
    images, test_labels = test_images
    spec = ModelSpec(
        Network(layers=(784, 32, 10)),
        init=Init("he_normal"),
        training=Training(
            batch_size=64, epochs=1, optimizer=Optimizer("adam"), schedule=Schedule(lr=0.002)
        ),
    )
    model, history = mlp_numpy.train(spec, x, labels, test=(preparation.apply(images), test_labels))
    reported = history.records[-1].test_accuracy
    path = tmp_path / "standardized.safetensors"
    model.save(path, preprocessing=preparation)
    loaded = mlp_numpy.load(path)
    assert loaded.preprocessing == preparation
    accuracy = float(np.mean(loaded.predict(images) == test_labels))
    assert reported > 0.85 and accuracy == reported
    # The same raw images read as [0, 1] pixels would give another accuracy: the file matters.
    loaded.preprocessing = Preprocessing("unit")
    assert float(np.mean(loaded.predict(images) == test_labels)) < reported - 0.05
