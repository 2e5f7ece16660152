"""The engine's contract beyond parity: devices, input checks, determinism, divergence and
early stopping through the shared loop."""

import numpy as np
import pytest

import mlp_numpy
import mlp_tf
from mlp_numpy.init import initial_layers
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.training import DivergenceError, fit


def small_spec(**training) -> ModelSpec:
    return ModelSpec(
        Network(layers=(784, 32, 10)),
        training=Training(**{"batch_size": 50, "epochs": 2, **training}),
    )


def test_devices_lists_the_cpu_and_an_engine_runs_there(mnist_train):
    assert mlp_tf.devices()[0] == "cpu"
    engine = mlp_tf.make_engine(small_spec(), *map(lambda a: a[:100], mnist_train), device="cpu")
    assert engine.device == "cpu"
    assert engine.kernels[0].device.endswith("CPU:0")
    assert (
        mlp_tf.make_engine(small_spec(), *map(lambda a: a[:100], mnist_train)).device
        == (mlp_tf.devices()[-1])
    )


@pytest.mark.parametrize("device", ["tpu", "cuda:7", "gpu"])
def test_an_unavailable_device_is_a_value_error_naming_it(mnist_train, device):
    if device == "gpu" and "gpu" in mlp_tf.devices():
        pytest.fail("this test expects a machine without a GPU visible to TensorFlow")
    x, labels = mnist_train[0][:100], mnist_train[1][:100]
    with pytest.raises(ValueError, match=rf"{device!r}.*available devices: \['cpu'"):
        mlp_tf.make_engine(small_spec(), x, labels, device=device)
    with pytest.raises(ValueError, match=repr(device)):
        mlp_tf.Model(small_spec().network, initial_layers(small_spec()), device=device)


def test_bad_inputs_are_named(mnist_train):
    x, labels = mnist_train[0][:100], mnist_train[1][:100]
    with pytest.raises(ValueError, match=r"x: expected shape \(N, 784\)"):
        mlp_tf.make_engine(small_spec(), x[:, :700], labels)
    with pytest.raises(ValueError, match="labels: expected shape"):
        mlp_tf.make_engine(small_spec(), x, labels[:99])
    with pytest.raises(ValueError, match=r"labels: class indices must lie in \[0, 10\)"):
        mlp_tf.make_engine(small_spec(), x, np.full(100, 10))
    layers = initial_layers(small_spec())
    wrong_shape = r"layers\[0\]\.weight: expected shape \(32, 784\), got \(784, 32\)"
    with pytest.raises(ValueError, match=wrong_shape):
        mlp_tf.make_engine(
            small_spec(),
            x,
            labels,
            layers=[layers[0]._replace(weight=layers[0].weight.T), layers[1]],
        )


def test_deterministic_runs_repeat_bit_for_bit(mnist_train):
    x, labels = mnist_train[0][:2000], mnist_train[1][:2000]
    spec = small_spec(optimizer=Optimizer("adam"))
    runs = []
    for _ in range(2):
        model, history = mlp_tf.train(spec, x, labels, deterministic=True)
        runs.append(([r.loss for r in history.records], model.layers()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a.weight, b.weight)
        np.testing.assert_array_equal(a.bias, b.bias)


def test_divergence_names_epoch_step_and_rate(mnist_train):
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = small_spec(optimizer=Optimizer("sgd"), schedule=Schedule(lr=1e6))
    with pytest.raises(
        DivergenceError, match=r"epoch 1, step \d+ with learning rate 1e\+06"
    ) as error:
        mlp_tf.train(spec, x, labels)
    assert error.value.epoch == 1 and error.value.step >= 1


def test_early_stopping_restores_the_best_weights_as_numpy_does(mnist_train, mnist_test):
    x, labels = mnist_train[0][:600], mnist_train[1][:600]
    validation = (mnist_test[0][:500], mnist_test[1][:500])
    spec = small_spec(
        epochs=12,
        patience=2,
        dtype="float64",
        optimizer=Optimizer("sgd", momentum=0.9),
        schedule=Schedule(lr=0.3),
    )
    reference = mlp_numpy.make_engine(spec, x, labels)
    expected = fit(reference, spec, train=(x, labels), validation=validation)
    engine = mlp_tf.make_engine(spec, x, labels)
    actual = fit(engine, spec, train=(x, labels), validation=validation)
    assert actual.stopped_early and expected.stopped_early
    assert actual.best_epoch == expected.best_epoch < len(actual.records)
    for e, a in zip(reference.get_layers(), engine.get_layers(), strict=True):
        np.testing.assert_allclose(a.weight, e.weight, rtol=0, atol=1e-9 * np.abs(e.weight).max())
    best = max(r.val_accuracy for r in actual.records)
    restored = np.mean(engine.predict_proba(validation[0]).argmax(axis=1) == validation[1])
    assert restored == best
