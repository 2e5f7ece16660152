"""mlp-tf computes what mlp-numpy, the reference, computes: the same outputs from one weight
file, and the same training steps from the same initial weights and batches."""

from dataclasses import replace

import numpy as np
import pytest

import mlp_numpy
import mlp_tf
from mlp_numpy import Layer
from mlp_numpy.init import initial_layers
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.training import fit

OPTIMIZERS = {
    "sgd": Optimizer("sgd"),
    "momentum": Optimizer("sgd", momentum=0.9),
    "nesterov": Optimizer("sgd", momentum=0.9, nesterov=True),
    "adam": Optimizer("adam"),
}
RATES = {"sgd": 0.05, "momentum": 0.01, "nesterov": 0.01, "adam": 0.001}


def make_spec(optimizer: Optimizer, lr: float, dtype: str, **network) -> ModelSpec:
    return ModelSpec(
        Network(layers=(784, 128, 64, 10), **network),
        training=Training(dtype=dtype, optimizer=optimizer, schedule=Schedule(lr=lr)),
    )


def train_both(spec: ModelSpec, x: np.ndarray, labels: np.ndarray, steps: int, batch: int = 64):
    """Losses and final layers of both engines after `steps` steps on the same batches."""
    layers = initial_layers(spec)
    x, labels = x[: steps * batch], labels[: steps * batch]
    order = np.random.default_rng(1).permutation(len(x))
    lr = spec.training.schedule.lr
    reference = mlp_numpy.make_engine(spec, x, labels, layers=layers)
    engine = mlp_tf.make_engine(spec, x, labels, layers=layers)
    return (
        (reference.train_batches(order, batch, lr), reference.get_layers()),
        (engine.train_batches(order, batch, lr), engine.get_layers()),
    )


def relative_difference(expected: list, actual: list) -> float:
    """The largest |a − e| / max |e| over every weight and bias tensor."""
    worst = 0.0
    for layer_e, layer_a in zip(expected, actual, strict=True):
        for e, a in zip(layer_e, layer_a, strict=True):
            if e is not None:
                worst = max(worst, np.max(np.abs(a - e)) / np.max(np.abs(e)))
    return worst


def test_forward_matches_numpy_on_the_test_set(mnist_train, mnist_test, tmp_path):
    x, labels = mnist_train
    spec = make_spec(Optimizer("adam"), 0.001, "float32")
    trained, _ = mlp_numpy.train(spec, x[:10_000], labels[:10_000])
    path = tmp_path / "trained.safetensors"
    trained.save(path)
    x_test = mnist_test[0]

    expected = mlp_numpy.load(path).predict_proba(x_test)
    actual = mlp_tf.load(path).predict_proba(x_test)
    assert actual.dtype == np.float32
    np.testing.assert_array_equal(actual.argmax(axis=1), expected.argmax(axis=1))
    assert np.mean(actual.argmax(axis=1) == mnist_test[1]) > 0.9  # a trained network
    # Two float32 evaluations that sum in different orders differ by a few units in the last
    # place of the logits (|z| up to 37 here, where one unit is 3.8e-6), so the outputs agree to
    # ~1e-6 and each is as close to the exact value, the same weights evaluated in float64,
    # as the other.
    exact = mlp_numpy.MLP(
        trained.network,
        [Layer(w.astype(np.float64), b.astype(np.float64)) for w, b in trained.layers()],
    ).predict_proba(x_test.astype(np.float64))
    assert np.max(np.abs(actual - expected)) <= 4e-6
    assert np.max(np.abs(actual - exact)) <= 1.5 * np.max(np.abs(expected - exact))


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float64_training_matches_numpy(mnist_train, name, weight_decay):
    optimizer = replace(OPTIMIZERS[name], weight_decay=weight_decay)
    spec = make_spec(optimizer, RATES[name], "float64")
    (losses_ref, layers_ref), (losses, layers) = train_both(spec, *mnist_train, steps=200)
    assert losses_ref[-1] < losses_ref[0] - 0.5  # it learned: a meaningful trajectory
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-9, atol=0)
    assert relative_difference(layers_ref, layers) <= 1e-9


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_losses_match_numpy(mnist_train, name, weight_decay):
    # tanh, not relu: in float32 a pre-activation within rounding (~1e-7) of relu's kink can
    # fall on different sides in two correct implementations that sum in different orders,
    # after which the trajectories part by ~1e-3. A smooth activation isolates the rounding.
    optimizer = replace(OPTIMIZERS[name], weight_decay=weight_decay)
    spec = make_spec(optimizer, RATES[name], "float32", hidden="tanh")
    (losses_ref, _), (losses, layers) = train_both(spec, *mnist_train, steps=200)
    assert losses_ref[-1] < losses_ref[0] - 0.5
    assert np.max(np.abs(losses - losses_ref)) <= 1e-4
    assert layers[0].weight.dtype == np.float32


@pytest.mark.parametrize(
    ("network", "loss"),
    [
        (dict(output="softmax"), Loss("mse")),
        (dict(output="sigmoid"), Loss("mse", "sum_outputs")),
        (dict(output="identity"), Loss("mse")),
        (dict(output="sigmoid"), Loss("bce")),
        (dict(output="sigmoid", hidden="sigmoid"), Loss("bce", "sum_outputs")),
        (dict(hidden="leaky_relu", leaky_slope=0.1), Loss("cross_entropy")),
        (dict(hidden="tanh", bias=False), Loss("cross_entropy")),
    ],
)
def test_every_activation_and_loss_matches_numpy(mnist_train, network, loss):
    spec = ModelSpec(
        Network(layers=(784, 32, 16, 10), **network),
        loss=loss,
        training=Training(
            dtype="float64",
            optimizer=Optimizer("sgd", momentum=0.9),
            schedule=Schedule(lr=0.05),
        ),
    )
    (losses_ref, layers_ref), (losses, layers) = train_both(spec, *mnist_train, steps=50, batch=32)
    assert losses_ref[-1] < losses_ref[0]
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-9, atol=0)
    assert relative_difference(layers_ref, layers) <= 1e-9


def test_fit_gives_the_same_history_as_numpy(mnist_train, mnist_test):
    x, labels = mnist_train[0][:3000], mnist_train[1][:3000]
    spec = ModelSpec(
        Network(layers=(784, 64, 10)),
        training=Training(
            batch_size=128,  # 3000 = 23 × 128 + 56: every epoch ends with a short batch
            epochs=4,
            dtype="float64",
            train_eval_size=1000,
            optimizer=Optimizer("adam"),
            schedule=Schedule("step", lr=0.002, step_size=2, gamma=0.5),
        ),
    )
    test = (mnist_test[0][:2000], mnist_test[1][:2000])
    _, expected = mlp_numpy.train(spec, x, labels, test=test)
    engine = mlp_tf.make_engine(spec, x, labels)
    # Built, the engine has compiled its loop for both batch shapes, and left the weights be.
    assert engine._run_steps.experimental_get_tracing_count() == 1
    for built, initial in zip(engine.get_layers(), initial_layers(spec), strict=True):
        np.testing.assert_array_equal(built.weight, initial.weight)
    actual = fit(engine, spec, train=(x, labels), test=test)

    assert [r.lr for r in actual.records] == [0.002, 0.002, 0.001, 0.001]
    for e, a in zip(expected.records, actual.records, strict=True):
        assert a.loss == pytest.approx(e.loss, rel=1e-9)
        assert (a.train_accuracy, a.test_accuracy) == (e.train_accuracy, e.test_accuracy)
    # One trace serves every epoch, its short last batch and every learning rate.
    assert engine._run_steps.experimental_get_tracing_count() == 1
