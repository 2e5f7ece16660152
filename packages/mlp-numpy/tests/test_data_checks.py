"""Bad data is refused up front, before any training and at prediction, by messages that
name the problem and the fix; `test=` and `validation=` data get the training data's
messages. The checks live in mlp_numpy.inputs and mlp_numpy.training.fit, which every
backend calls."""

import re
import warnings

import numpy as np
import pytest

import mlp_numpy
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Training

SPEC = ModelSpec(
    Network(layers=(4, 8, 3)), training=Training(batch_size=8, epochs=2, optimizer=Optimizer())
)
BINARY = ModelSpec(
    Network(layers=(4, 8, 1), output="sigmoid", task="binary"), Loss("bce"), training=SPEC.training
)
REGRESSION = ModelSpec(
    Network(layers=(4, 8, 2), output="identity", task="regression"),
    Loss("mse"),
    training=SPEC.training,
)


def data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, size=n)


def refused(spec, x, labels, message, **data_sets):
    """Training is refused with `message` (a regular expression matched at the start)
    before any epoch runs."""
    epochs = []
    with pytest.raises(ValueError, match=message) as error:
        mlp_numpy.train(spec, x, labels, progress=epochs.append, **data_sets)
    assert epochs == []
    return str(error.value)


def test_nan_or_infinite_inputs_are_refused_before_training():
    x, labels = data()
    x[5, 2] = np.nan
    refused(
        SPEC,
        x,
        labels,
        r"^x: 1 value is NaN or infinite \(the first at row 5, column 2\).*keep the other rows, "
        r"rows = np\.isfinite\(x\)\.all\(axis=1\), then x\[rows\] \(and labels\[rows\]\), or "
        r"fill them in, e\.g\. with each column's mean np\.nanmean\(x, axis=0\)",
    )
    x[7, 0] = -np.inf
    refused(SPEC, x, labels, r"^x: 2 values are NaN or infinite \(the first at row 5")


def test_nan_inputs_are_refused_at_prediction():
    x, labels = data()
    model, _ = mlp_numpy.train(SPEC, x, labels)
    x[3, 1] = np.nan
    message = r"^x: 1 value is NaN or infinite \(the first at row 3,"
    for predict in (model.predict, model.predict_proba):
        with pytest.raises(ValueError, match=message):
            predict(x)


@pytest.mark.parametrize("name", ["test", "validation"])
def test_test_and_validation_data_get_the_training_datas_messages(name):
    x, labels = data()
    bad_x = x[:, :3]
    with pytest.raises(ValueError) as training_error:
        mlp_numpy.train(SPEC, bad_x, labels)
    message = refused(
        SPEC,
        x,
        labels,
        rf"^{name}: x: expected shape \(N, 4\), got \(30, 3\)",
        **{name: (bad_x, labels)},
    )
    assert message == f"{name}: {training_error.value}"

    names = np.array(["cat", "dog", "fish"])[labels]
    with pytest.raises(ValueError) as training_error:
        mlp_numpy.train(SPEC, x, names)
    message = refused(
        SPEC, x, labels, rf"^{name}: labels: expected a 1-D integer array", **{name: (x, names)}
    )
    assert message == f"{name}: {training_error.value}"
    assert "np.unique(labels, return_inverse=True)" in message

    with_nan = x.copy()
    with_nan[0, 0] = np.nan
    refused(SPEC, x, labels, rf"^{name}: x: 1 value is NaN", **{name: (with_nan, labels)})
    refused(
        SPEC, x, labels, rf"^{name}: labels: 29 labels for 30 samples", **{name: (x, labels[:-1])}
    )


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            np.array(["cat", "dog", "fish"] * 10),
            r"^labels: expected a 1-D integer array, got <U4 \(30,\); these are not class "
            r"indices: number the classes 0 … 2 with classes, labels = "
            r"np\.unique\(labels, return_inverse=True\)",
        ),
        (
            np.eye(3)[np.arange(30) % 3],
            r"^labels: expected a 1-D integer array, got float64 \(30, 3\); these are one-hot "
            r"rows: pass labels\.argmax\(axis=1\)",
        ),
        (
            (np.arange(30) % 3).astype(float),
            r"whole numbers: pass labels\.astype\(np\.int64\)",
        ),
        (np.linspace(0, 1, 30), r"real-valued targets are for a regression network \(network"),
        (
            np.arange(30) % 3 + 1,
            r"^labels: values must be in \[0, 3\), got 1\.\.3; they look "
            r"numbered from 1: pass labels - 1",
        ),
        (
            np.arange(30) % 5,
            r"^labels: values must be in \[0, 3\), got 0\.\.4; the output layer "
            r"has 3 units, one per class: make network\.layers end in 5",
        ),
        ((np.arange(30) % 3)[:, None], r"a column: pass labels\.ravel\(\)"),
    ],
)
def test_label_errors_say_how_to_fix_them(labels, message):
    x, _ = data()
    refused(SPEC, x, labels, message)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            np.where(np.arange(30) % 2, 1, -1),
            r"^labels: values must be 0 or 1, got -1, 1; mark the positive class, e\.g\. "
            r"\(labels == 1\)\.astype\(int\)",
        ),
        (
            np.arange(30) % 3,
            r"^labels: values must be 0 or 1, got 0, 1, 2; a binary classifier "
            r'has two classes, these are 3: for more use task = "classification"',
        ),
        (
            np.eye(2)[np.arange(30) % 2],
            r"^labels: expected a 1-D array of 0/1 labels, got one-hot rows \(30, 2\); pass "
            r"labels\.argmax\(axis=1\)",
        ),
        (
            np.array(["no", "yes"] * 15),
            r"^labels: expected 0/1 labels, got <U3; number the two "
            r"classes 0 and 1 with classes, labels = np\.unique",
        ),
    ],
)
def test_binary_label_errors_say_how_to_fix_them(labels, message):
    x, _ = data()
    refused(BINARY, x, labels, message)


def test_binary_labels_may_be_booleans_or_float_zeros_and_ones():
    x, labels = data()
    for given in ((labels == 1), (labels == 1).astype(np.float32)):
        _, history = mlp_numpy.train(BINARY, x, given)
        assert history.records[-1].train_accuracy is not None


def test_regression_target_errors():
    x, _ = data()
    refused(
        REGRESSION,
        x,
        np.zeros(30),
        r"^labels: expected targets of shape \(N, 2\) for 2 "
        r"output\(s\), got \(30,\); the output layer has one unit per target value",
    )
    targets = np.zeros((30, 2))
    targets[4, 1] = np.inf
    refused(
        REGRESSION, x, targets, r"^labels: 1 target value is NaN or infinite; drop those samples"
    )
    refused(REGRESSION, x, np.zeros((30, 2), dtype=object), r"^labels: expected real-valued")


def test_inputs_of_the_wrong_shape_say_how_to_reshape():
    x, labels = data()
    refused(
        SPEC,
        x[0],
        labels[:1],
        r"^x: expected shape \(N, 4\), got \(4,\); one sample: "
        r"pass x\[None, :\]",
    )
    one = ModelSpec(Network((1, 3)), training=SPEC.training)
    refused(
        one,
        x[:, 0],
        labels,
        r"^x: expected shape \(N, 1\), got \(30,\); one feature per "
        r"sample: pass x\[:, None\]",
    )


def test_uint8_inputs_are_refused_at_training_with_the_fix():
    """predict takes uint8 arrays for raw images needing a preprocessing, so a network
    trained on uint8 values as they are would be refused them later: refused now."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(30, 4), dtype=np.uint8)
    labels = rng.integers(0, 3, size=30)
    fix = (
        r"^x: uint8 values, which predict takes for raw images and prepares, so it would not "
        r"see them as training did; convert them first, e\.g\. x\.astype\(np\.float32\) / 255, "
        r"and to predict from raw images later, save the model with model\.save\(path, "
        r'preprocessing=Preprocessing\("unit", input_shape=\(4,\)\)\)'
    )
    refused(SPEC, pixels, labels, fix)
    x = pixels.astype(np.float32) / 255
    refused(SPEC, x, labels, "^test: " + fix[1:], test=(pixels, labels))
    # The fix works: trained on the converted values, the model predicts the same inputs.
    model, _ = mlp_numpy.train(SPEC, x, labels)
    assert model.predict(x).shape == (30,)


def test_a_batch_larger_than_the_data_warns_once():
    x, labels = data(n=10)
    spec = ModelSpec(SPEC.network, training=Training(batch_size=64, epochs=3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, history = mlp_numpy.train(spec, x, labels)
    messages = [str(w.message) for w in caught]
    assert messages == [
        "training.batch_size: 64 is more than the 10 training samples, so every step trains "
        'on all of them (as batch_size = None, "full")'
    ]
    assert len(history.records) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mlp_numpy.train(ModelSpec(SPEC.network, training=Training(batch_size=10)), x, labels)


def test_the_engine_refuses_what_training_refuses():
    x, labels = data()
    x[2, 2] = np.inf
    with pytest.raises(ValueError, match=re.escape("x: 1 value is NaN or infinite")):
        mlp_numpy.make_engine(SPEC, x, labels)
