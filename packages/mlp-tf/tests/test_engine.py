"""The engine's contract beyond parity: devices, input checks, determinism, divergence and
early stopping through the shared loop."""

import keras
import numpy as np
import pytest

import mlp_numpy
import mlp_tf
from mlp_numpy.initializers import initial_layers
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
    assert engine.model.trainable_variables[0].value.device.endswith("CPU:0")
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
    with pytest.raises(ValueError, match="labels: 99 labels for 100 samples"):
        mlp_tf.make_engine(small_spec(), x, labels[:99])
    with pytest.raises(ValueError, match=r"labels: values must be in \[0, 10\), got 10\.\.10"):
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
        optimizer=Optimizer("sgd", momentum=0.9, hyperparameter_precision="float32"),
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


def test_training_runs_through_kerass_optimizer_and_loss(mnist_train, tmp_path):
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = small_spec(
        optimizer=Optimizer("adam", eps_placement="eps_hat", weight_decay=1e-4,
                            weight_decay_form="decoupled"),
    )  # fmt: skip
    model, _ = mlp_tf.train(spec, x, labels)
    keras_model = model.keras_model
    assert type(keras_model.optimizer) is keras.optimizers.AdamW
    assert isinstance(keras_model.loss, keras.losses.CategoricalCrossentropy)
    assert int(keras_model.optimizer.iterations.numpy()) == 2 * 20  # 2 epochs of 20 steps
    # Train on with plain model.fit: the model outputs logits for its from-logits loss.
    before = model.predict_proba(x)
    keras_model.fit(x, keras.utils.to_categorical(labels, 10), batch_size=50, verbose=0)
    assert int(keras_model.optimizer.iterations.numpy()) == 3 * 20
    assert np.max(np.abs(model.predict_proba(x) - before)) > 1e-4  # Model sees the new weights
    np.testing.assert_allclose(model.predict_proba(x).sum(axis=1), 1, rtol=1e-5)
    keras_model.export(tmp_path / "served")  # a SavedModel for serving
    assert (tmp_path / "served" / "saved_model.pb").exists()


@pytest.mark.parametrize(
    ("optimizer", "kind"),
    [
        (Optimizer("sgd", momentum=0.9, nesterov=True, velocity="step"), keras.optimizers.SGD),
        (Optimizer("sgd"), keras.optimizers.SGD),
        (Optimizer("adam", eps_placement="eps_hat"), keras.optimizers.Adam),
        (Optimizer("adam"), mlp_tf.optimizers.PaperAdam),
        (Optimizer("sgd", momentum=0.9), mlp_tf.optimizers.GradientVelocitySGD),
    ],
)
def test_each_convention_maps_to_its_keras_optimizer(optimizer, kind):
    assert type(mlp_tf.optimizers.make_optimizer(optimizer, "float32")) is kind


@pytest.mark.parametrize(
    ("optimizer", "dtype", "message"),
    [
        (
            Optimizer("adam", weight_decay=1e-3),
            "float32",
            r"^training\.optimizer\.weight_decay_form: Keras\'s weight_decay is decoupled",
        ),
        (
            Optimizer("sgd", momentum=0.9, velocity="step"),
            "float64",
            r"^training\.optimizer\.hyperparameter_precision: .* rounds momentum = 0\.9 "
            r"to float32 \(0\.8999999761581421\)",
        ),
    ],
)
def test_a_convention_keras_cannot_express_is_named(mnist_train, optimizer, dtype, message):
    x, labels = mnist_train[0][:100], mnist_train[1][:100]
    with pytest.raises(mlp_tf.ConventionError, match=message):
        mlp_tf.make_engine(small_spec(optimizer=optimizer, dtype=dtype), x, labels)


def test_the_added_update_steps_take_exact_hyperparameters_where_asked(mnist_train):
    x, labels = mnist_train[0][:100], mnist_train[1][:100]
    spec = small_spec(optimizer=Optimizer("adam"), dtype="float64")
    assert mlp_tf.make_engine(spec, x, labels).optimizer.exact_hyperparameters
    decay = Optimizer("adam", weight_decay=1e-3, weight_decay_form="decoupled")
    with pytest.raises(mlp_tf.ConventionError, match=r"rounds weight_decay = 0\.001"):
        mlp_tf.make_engine(small_spec(optimizer=decay, dtype="float64"), x, labels)
