"""The engine's contract beyond parity: devices, input checks, determinism, divergence and
early stopping through the shared loop."""

import keras
import numpy as np
import pytest

import mlp_numpy
import mlp_tf
from mlp_numpy.conventions import ConventionError, resolve
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
    reference = mlp_numpy.make_engine(resolve(spec, "tf"), x, labels)
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
    spec = small_spec(optimizer=Optimizer("adam", weight_decay=1e-4))
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
        (Optimizer("sgd"), keras.optimizers.SGD),
        (Optimizer("sgd", weight_decay=1e-3), keras.optimizers.SGD),
        (Optimizer("sgd", momentum=0.9), keras.optimizers.SGD),
        (Optimizer("sgd", momentum=0.9, nesterov=True, weight_decay=1e-3), keras.optimizers.SGD),
        (Optimizer("adam"), keras.optimizers.Adam),
        (Optimizer("adam", weight_decay=1e-3), keras.optimizers.AdamW),
    ],
)
def test_every_optimizer_is_kerass_own(mnist_train, optimizer, kind):
    x, labels = mnist_train[0][:100], mnist_train[1][:100]
    engine = mlp_tf.make_engine(small_spec(optimizer=optimizer, dtype="float64"), x, labels)
    assert type(engine.optimizer) is kind  # the class itself, not a subclass
    assert engine.model.optimizer is engine.optimizer


@pytest.mark.parametrize(
    ("optimizer", "dtype", "message"),
    [
        (
            Optimizer("adam", eps_placement="sqrt_v_hat"),
            "float32",
            r"^training\.optimizer\.eps_placement: keras\.optimizers\.Adam adds ε to √v",
        ),
        (
            Optimizer("sgd", momentum=0.9, velocity="gradient"),
            "float32",
            r"^training\.optimizer\.velocity: keras\.optimizers\.SGD keeps the velocity",
        ),
        (
            Optimizer("adam", weight_decay=1e-3, weight_decay_form="coupled"),
            "float32",
            r"^training\.optimizer\.weight_decay_form: Keras\'s weight_decay is decoupled",
        ),
        (
            Optimizer("sgd", momentum=0.9, hyperparameter_precision="exact"),
            "float64",
            r"^training\.optimizer\.hyperparameter_precision: .* rounds momentum = 0\.9 "
            r"to float32 \(0\.8999999761581421\)",
        ),
        (
            Optimizer("sgd", momentum=0.5, weight_decay=1e-3, hyperparameter_precision="exact"),
            "float64",
            r"rounds weight_decay = 0\.001",
        ),
    ],
)
def test_a_convention_keras_has_no_built_in_for_is_named(mnist_train, optimizer, dtype, message):
    x, labels = mnist_train[0][:100], mnist_train[1][:100]
    with pytest.raises(ConventionError, match=message):
        mlp_tf.make_engine(small_spec(optimizer=optimizer, dtype=dtype), x, labels)


def test_exact_hyperparameters_are_kerass_own_where_nothing_rounds(mnist_train):
    """A momentum of 0.5 is a float32 number: Keras's SGD computes the exact form."""
    x, labels = mnist_train[0][:100], mnist_train[1][:100]
    exact = Optimizer("sgd", momentum=0.5, hyperparameter_precision="exact")
    engine = mlp_tf.make_engine(small_spec(optimizer=exact, dtype="float64"), x, labels)
    assert type(engine.optimizer) is keras.optimizers.SGD


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
    _, expected = mlp_numpy.train(resolve(spec, "tf"), x, labels, test=test)
    engine = mlp_tf.make_engine(spec, x, labels)
    # Built, the engine has compiled both batch shapes, and left the weights and Adam be.
    assert int(engine.optimizer.iterations.numpy()) == 0
    for built, initial in zip(engine.get_layers(), initial_layers(spec), strict=True):
        np.testing.assert_array_equal(built.weight, initial.weight)
    actual = fit(engine, spec, train=(x, labels), test=test)

    assert [r.lr for r in actual.records] == [0.002, 0.002, 0.001, 0.001]
    for e, a in zip(expected.records, actual.records, strict=True):
        assert a.loss == pytest.approx(e.loss, rel=1e-9)
        assert (a.train_accuracy, a.test_accuracy) == (e.train_accuracy, e.test_accuracy)
    assert int(engine.optimizer.iterations.numpy()) == 4 * 24  # 23 full and 1 short batch
    assert float(engine.optimizer.learning_rate.numpy()) == 0.001  # the last epoch's rate
