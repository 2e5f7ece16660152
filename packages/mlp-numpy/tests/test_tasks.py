"""Binary classifiers (one sigmoid output, 0/1 labels) and regression networks (identity
outputs, real targets): the spec's rules, training, the history's metrics, early stopping,
prediction, and weight files that keep the task."""

import json

import numpy as np
import pytest
from safetensors import safe_open

import mlp_numpy
from mlp_numpy.conventions import ConventionError, resolve
from mlp_numpy.inputs import training_targets
from mlp_numpy.metrics import accuracy, mean_squared_error, predicted, r2_score
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, SpecError, Training

BINARY = Network(layers=(2, 16, 1), hidden="tanh", output="sigmoid", task="binary")


def training(epochs=30, **options):
    return Training(
        batch_size=16,
        epochs=epochs,
        optimizer=Optimizer("adam"),
        schedule=Schedule(lr=0.01),
        **options,
    )


def circles(n=200, seed=0):
    """Points inside (label 1) and outside (label 0) a circle of radius 1."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.6, 1.6, size=(n, 2))
    return x, (np.hypot(x[:, 0], x[:, 1]) < 1).astype(np.int64)


def waves(n=200, outputs=1, seed=0):
    """y = sin(x1) + x2 / 2, and with two outputs also its negative, plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, 2))
    y = np.sin(x[:, 0]) + x[:, 1] / 2 + rng.normal(scale=0.05, size=n)
    return x, (y if outputs == 1 else np.stack([y, -2 * y], axis=1))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Network(layers=(2, 4, 1), output="sigmoid"),
            r"^network\.layers: a classifier needs one output per class, at least 2, got 1; "
            r'for one sigmoid output on 0/1 labels set task = "binary"',
        ),
        (
            lambda: Network(layers=(2, 4, 2), output="sigmoid", task="binary"),
            r'^network\.task: "binary" needs one output unit with output = "sigmoid", got 2',
        ),
        (
            lambda: Network(layers=(2, 4, 1), task="binary"),
            r'^network\.task: "binary" needs .* got 1 with "softmax"',
        ),
        (
            lambda: Network(layers=(2, 4, 1), output="sigmoid", task="regression"),
            r'^network\.output: task "regression" needs output = "identity"',
        ),
        (lambda: Network(layers=(2, 4, 1), task="ranking"), r"^network\.task: must be one of"),
        (
            lambda: ModelSpec(BINARY),
            r'^loss\.name: task "binary" trains with Loss\("bce"\) or Loss\("mse"\), '
            r'got "cross_entropy"',
        ),
        (
            lambda: ModelSpec(Network((2, 3), output="identity", task="regression"), Loss("bce")),
            r'^loss\.name: task "regression" trains with Loss\("mse"\), got "bce"',
        ),
        (
            lambda: ModelSpec(Network((2, 4, 3), output="sigmoid")),
            r'^loss\.name: cross_entropy needs network\.output = "softmax", got "sigmoid"; '
            r'with this output use Loss\("bce"\) or Loss\("mse"\)',
        ),
    ],
)
def test_the_spec_names_the_task_rules(make, message):
    with pytest.raises(SpecError, match=message):
        make()


def test_task_in_spec_files_and_tables():
    spec = ModelSpec(BINARY, Loss("bce"))
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["network"]["task"] == "binary"
    # A classifier's table is the one written before tasks existed: no task key.
    classifier = ModelSpec(Network(layers=(2, 3)))
    assert "task" not in classifier.to_dict()["network"]
    assert ModelSpec.from_dict(classifier.to_dict()).network.task == "classification"


def test_a_binary_classifier_trains_predicts_and_round_trips(tmp_path):
    x, labels = circles()
    x_test, labels_test = circles(seed=1)
    spec = ModelSpec(BINARY, Loss("bce"), training=training())
    model, history = mlp_numpy.train(spec, x, labels, test=(x_test, labels_test))
    last = history.records[-1]
    assert last.train_accuracy > 0.9 and last.test_accuracy > 0.85
    assert last.train_mse is None and last.test_r2 is None
    proba = model.predict_proba(x_test)
    assert proba.shape == (200, 1) and ((proba > 0) & (proba < 1)).all()
    prediction = model.predict(x_test)
    assert prediction.dtype == np.int64 and set(prediction) == {0, 1}
    np.testing.assert_array_equal(prediction, (proba[:, 0] > 0.5).astype(int))
    assert np.mean(prediction == labels_test) == last.test_accuracy

    path = tmp_path / "binary.safetensors"
    model.save(path)
    with safe_open(path, framework="numpy") as f:
        assert json.loads(f.metadata()["network"])["task"] == "binary"
    loaded = mlp_numpy.load(path)
    assert loaded.network == BINARY and loaded.spec == spec
    np.testing.assert_array_equal(loaded.predict(x_test), prediction)


@pytest.mark.parametrize("outputs", [1, 2])
def test_a_regression_network_trains_predicts_and_round_trips(tmp_path, outputs):
    x, y = waves(outputs=outputs)
    x_val, y_val = waves(outputs=outputs, seed=1)
    network = Network((2, 24, outputs), hidden="tanh", output="identity", task="regression")
    spec = ModelSpec(network, Loss("mse"), training=training(epochs=40))
    model, history = mlp_numpy.train(spec, x, y, validation=(x_val, y_val), test=(x_val, y_val))
    first, last = history.records[0], history.records[-1]
    assert last.train_accuracy is None and last.val_accuracy is None
    assert last.val_mse < first.val_mse and last.val_r2 > 0.9 and last.train_r2 > 0.9
    assert (last.test_mse, last.test_r2) == (last.val_mse, last.val_r2)
    prediction = model.predict(x_val)
    assert prediction.shape == y_val.shape  # (N,) for one output, (N, 2) for two
    assert mean_squared_error(prediction, y_val) == pytest.approx(last.val_mse, rel=1e-6)
    assert r2_score(prediction, y_val) == pytest.approx(last.val_r2, rel=1e-6)
    path = tmp_path / "regression.safetensors"
    model.save(path)
    np.testing.assert_array_equal(mlp_numpy.load(path).predict(x_val), prediction)
    assert history.to_dict()["records"][-1]["val_r2"] == last.val_r2


def test_regression_early_stopping_keeps_the_lowest_validation_error():
    x, y = waves(n=60)
    x_val, y_val = waves(seed=1)
    network = Network((2, 32, 1), hidden="tanh", output="identity", task="regression")
    # Small batches and momentum: the validation error goes down, then up and down again.
    spec = ModelSpec(
        network,
        Loss("mse"),
        training=Training(
            batch_size=4,
            epochs=30,
            patience=3,
            optimizer=Optimizer("sgd", momentum=0.9),
            schedule=Schedule(lr=0.02),
        ),
    )
    model, history = mlp_numpy.train(spec, x, y, validation=(x_val, y_val))
    errors = [r.val_mse for r in history.records]
    best = int(np.argmin(errors))
    assert history.stopped_early and history.best_epoch == best + 1 < len(errors)
    assert mean_squared_error(model.predict(x_val), y_val) == pytest.approx(errors[best], rel=1e-6)


def test_training_targets_for_every_task():
    classes = training_targets(np.array([2, 0]), Network((2, 3)), np.float64)
    np.testing.assert_array_equal(classes, [[0, 0, 1], [1, 0, 0]])
    binary = training_targets(np.array([True, False, True]), BINARY, np.float32)
    assert binary.dtype == np.float32 and binary.tolist() == [[1], [0], [1]]
    one = Network((2, 1), output="identity", task="regression")
    assert training_targets(np.array([0.5, -2.0]), one).tolist() == [[0.5], [-2.0]]
    assert training_targets(np.array([[0.5], [-2.0]]), one).tolist() == [[0.5], [-2.0]]
    two = Network((2, 2), output="identity", task="regression")
    assert training_targets(np.array([[1, 2]]), two, np.float64).tolist() == [[1.0, 2.0]]


def test_predictions_and_metrics():
    outputs = np.array([[0.2], [0.5], [0.51], [0.9]])
    assert predicted(outputs, "binary").tolist() == [0, 0, 1, 1]
    assert accuracy(outputs, np.array([0, 1, 1, 1])) == 0.75  # one column: binary
    assert predicted(outputs, "regression").shape == (4,)
    assert predicted(np.ones((4, 2)), "regression").shape == (4, 2)
    targets = np.array([1.0, 2.0, 3.0, 4.0])
    assert mean_squared_error(targets + 1, targets) == 1.0
    assert r2_score(targets, targets) == 1.0
    assert r2_score(np.full(4, targets.mean()), targets) == 0.0
    assert r2_score(np.zeros(4), targets) == pytest.approx(1 - 30 / 5)
    # An output with constant targets: 1 when predicted exactly, 0 otherwise (as sklearn).
    assert r2_score(np.ones(3), np.ones(3)) == 1.0 and r2_score(np.zeros(3), np.ones(3)) == 0.0


@pytest.mark.parametrize("backend", ["torch", "tf"])
def test_backends_without_the_task_say_so(backend):
    spec = ModelSpec(BINARY, Loss("bce"))
    with pytest.raises(ConventionError, match=rf"^network\.task: the {backend} backend does not"):
        resolve(spec, backend)
    assert resolve(spec, "numpy").network == resolve(spec, "jax").network == BINARY
