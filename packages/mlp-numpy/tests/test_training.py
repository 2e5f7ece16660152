"""The training loop: history, determinism, divergence, early stopping, batch order."""

import numpy as np
import pytest

import mlp_numpy
from mlp_numpy.batches import epoch_batches
from mlp_numpy.metrics import accuracy, confusion_matrix, evaluate, per_class_accuracy
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.training import DivergenceError, fit


def blobs(n=300, seed=0):
    """Three separable Gaussian clusters in 8 dimensions."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    centers = rng.normal(scale=3.0, size=(3, 8))
    return centers[labels] + rng.normal(size=(n, 8)), labels


def spec_with(**training):
    options = {"batch_size": 16, "epochs": 3, "optimizer": Optimizer("adam"), **training}
    return ModelSpec(Network(layers=(8, 16, 3)), training=Training(**options))


def test_training_learns_and_records_every_epoch():
    x, labels = blobs()
    seen = []
    spec = spec_with(epochs=4, train_eval_size=100)
    model, history = mlp_numpy.train(spec, x, labels, test=(x, labels), progress=seen.append)
    assert [r.epoch for r in history.records] == [1, 2, 3, 4]
    assert seen == history.records
    assert history.records[-1].loss < history.records[0].loss
    assert history.records[-1].train_accuracy > 0.9
    assert history.records[-1].test_accuracy == accuracy(model.predict_proba(x), labels)
    assert all(r.val_accuracy is None and r.seconds > 0 for r in history.records)
    assert history.to_dict()["records"][0]["epoch"] == 1


def test_epoch_loss_is_the_mean_of_step_losses_weighted_by_batch_size():
    x, labels = blobs(n=50)
    spec = spec_with(epochs=1, batch_size=16)
    engine = mlp_numpy.make_engine(spec, x, labels)
    batches = epoch_batches(50, 16, 0, 0)
    steps = mlp_numpy.make_engine(spec, x, labels).train_batches(batches.order, 16, 0.001)
    history = fit(engine, spec, train=(x, labels))
    want = (steps[:3].sum() * 16 + steps[3] * 2) / 50
    assert history.records[0].loss == pytest.approx(want, rel=1e-12)


def test_same_seed_gives_bit_identical_weights():
    x, labels = blobs()
    first, _ = mlp_numpy.train(spec_with(seed=5), x, labels)
    second, _ = mlp_numpy.train(spec_with(seed=5), x, labels)
    other, _ = mlp_numpy.train(spec_with(seed=6), x, labels)
    for a, b, c in zip(first.layers(), second.layers(), other.layers(), strict=True):
        assert a.weight.tobytes() == b.weight.tobytes()
        assert a.bias.tobytes() == b.bias.tobytes()
        assert a.weight.tobytes() != c.weight.tobytes()


def test_divergence_names_epoch_step_and_rate():
    x, labels = blobs()
    spec = ModelSpec(
        Network(layers=(8, 16, 3), output="identity"),
        Loss("mse"),
        training=Training(
            batch_size=16, epochs=3, optimizer=Optimizer("sgd"), schedule=Schedule(lr=1e6)
        ),
    )
    with pytest.raises(DivergenceError, match="smaller learning rate") as error:
        mlp_numpy.train(spec, x * 100, labels)
    assert error.value.epoch == 1 and error.value.lr == 1e6
    assert 1 < error.value.step <= 19
    assert f"epoch 1, step {error.value.step}" in str(error.value)


class ScriptedEngine:
    """An engine whose validation accuracy follows a script, to test early stopping."""

    def __init__(self, accuracies):
        self.accuracies = iter(accuracies)
        self.layers = [mlp_numpy.Layer(np.zeros((3, 2)), np.zeros(3))]
        self.epoch = 0

    def train_batches(self, order, batch_size, lr):
        self.epoch += 1
        self.layers = [mlp_numpy.Layer(np.full((3, 2), float(self.epoch)), np.zeros(3))]
        self.accuracy = next(self.accuracies)
        return np.zeros(-(-len(order) // batch_size))

    def predict_proba(self, x):
        correct = np.arange(len(x)) < round(self.accuracy * len(x))
        return np.where(correct[:, None], np.eye(3)[0], np.eye(3)[1])

    def get_layers(self):
        return [mlp_numpy.Layer(w.copy(), b.copy()) for w, b in self.layers]

    def set_layers(self, layers):
        self.layers = layers


def test_early_stopping_restores_the_best_epoch():
    spec = ModelSpec(Network(layers=(2, 3)), training=Training(epochs=10, patience=2, batch_size=5))
    engine = ScriptedEngine([0.5, 0.7, 0.6, 0.7, 0.9, 0.9])
    data = (np.zeros((10, 2)), np.zeros(10, dtype=int))
    history = fit(engine, spec, train=data, validation=data)
    # A tie with the best is no improvement.
    assert [r.val_accuracy for r in history.records] == [0.5, 0.7, 0.6, 0.7]
    assert history.stopped_early and history.best_epoch == 2
    assert engine.layers[0].weight[0, 0] == 2.0


def test_patience_needs_validation_data():
    x, labels = blobs()
    with pytest.raises(ValueError, match=r"^training\.patience"):
        mlp_numpy.train(spec_with(patience=2), x, labels)


def test_without_patience_the_last_weights_stay():
    spec = ModelSpec(Network(layers=(2, 3)), training=Training(epochs=3, batch_size=5))
    engine = ScriptedEngine([0.9, 0.5, 0.4])
    data = (np.zeros((10, 2)), np.zeros(10, dtype=int))
    history = fit(engine, spec, train=data, validation=data)
    assert history.best_epoch == 1 and not history.stopped_early
    assert engine.layers[0].weight[0, 0] == 3.0


def test_batch_order():
    batches = epoch_batches(10, 4, seed=1, epoch=0)
    assert len(batches) == 3 and list(batches.sizes()) == [4, 4, 2]
    assert sorted(np.concatenate(list(batches))) == list(range(10))
    want = np.random.default_rng([1, 1, 0]).permutation(10)
    np.testing.assert_array_equal(batches.order, want)
    assert not np.array_equal(epoch_batches(10, 4, 1, epoch=1).order, batches.order)
    dropped = epoch_batches(10, 4, 1, 0, drop_last=True)
    assert len(dropped) == 2 and len(dropped.order) == 8
    np.testing.assert_array_equal(epoch_batches(5, None, 0, 0, shuffle=False).order, np.arange(5))
    with pytest.raises(ValueError, match="drop_last"):
        epoch_batches(3, 4, 0, 0, drop_last=True)


def test_metrics():
    proba = np.array([[0.9, 0.1, 0], [0.2, 0.8, 0], [0.6, 0.4, 0], [0.1, 0.1, 0.8]])
    labels = np.array([0, 1, 1, 0], dtype=np.uint8)
    assert accuracy(proba, labels) == 0.5
    want = [[1, 0, 1], [1, 1, 0], [0, 0, 0]]
    np.testing.assert_array_equal(confusion_matrix(proba, labels), want)
    np.testing.assert_array_equal(per_class_accuracy(proba, labels)[:2], [0.5, 0.5])
    assert np.isnan(per_class_accuracy(proba, labels)[2])
    result = evaluate(proba, labels)
    assert result.accuracy == 0.5 and result.confusion.sum() == 4


def test_devices_and_unknown_device():
    assert mlp_numpy.devices() == ["cpu"]
    x, labels = blobs(n=10)
    with pytest.raises(ValueError, match="'cuda' is not available; available: auto, cpu"):
        mlp_numpy.make_engine(spec_with(), x, labels, device="cuda")


def test_engine_rejects_bad_data():
    x, labels = blobs(n=10)
    with pytest.raises(ValueError, match=r"^x: expected shape \(N, 8\)"):
        mlp_numpy.make_engine(spec_with(), x[:, :5], labels)
    with pytest.raises(ValueError, match=r"^labels: values must be in \[0, 3\)"):
        mlp_numpy.make_engine(spec_with(), x, labels + 3)


def test_engine_layers_round_trip_and_start_from_given_layers():
    x, labels = blobs(n=40)
    spec = spec_with()
    engine = mlp_numpy.make_engine(spec, x, labels)
    start = engine.get_layers()
    again = mlp_numpy.make_engine(spec, x, labels, layers=start)
    np.testing.assert_array_equal(engine.predict_proba(x), again.predict_proba(x))
    engine.train_batches(np.arange(40), 8, 0.01)
    assert not np.array_equal(engine.get_layers()[0].weight, start[0].weight)
    engine.set_layers(start)
    np.testing.assert_array_equal(engine.predict_proba(x), again.predict_proba(x))
