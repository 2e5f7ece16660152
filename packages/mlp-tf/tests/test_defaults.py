"""Keras's defaults as spec options: the backend configured as a Keras tutorial writes it
equals the tutorial's own model, and equals the reference given the same default set."""

from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlp_numpy.conventions import ConventionError
from mlp_numpy.defaults import with_defaults
from mlp_numpy.engine import NumpyEngine
from mlp_numpy.spec import Init, Loss, ModelSpec, Network, SpecError, Training
from mlp_tf.devices import set_tf32
from mlp_tf.engine import TFEngine
from mlp_tf.initializers import framework_layers
from mlp_tf.network import dense_layers, keras_floatx

LAYERS = (20, 16, 12, 10)
N, BATCH, EPOCHS = 640, 64, 20  # 10 steps an epoch, 200 steps


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, LAYERS[0])), rng.integers(0, 10, size=N)


def keras_defaults(batch_order="framework", seed=0):
    base = ModelSpec(Network(LAYERS), training=Training(dtype="float64", seed=seed))
    spec = with_defaults(base, "keras", draw="framework")
    return replace(spec, training=replace(spec.training, batch_order=batch_order))


def tutorial_model(seed):
    """The Keras tutorial's network: a seeded Sequential of Dense layers ending in softmax."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((LAYERS[0],), dtype="float64"),
            keras.layers.Dense(16, activation="relu", dtype="float64"),
            keras.layers.Dense(12, activation="relu", dtype="float64"),
            keras.layers.Dense(10, activation="softmax", dtype="float64"),
        ]
    )


def relative(layers, reference):
    worst = 0.0
    for (w, b), (rw, rb) in zip(layers, reference, strict=True):
        for a, r in ((w, rw), (b, rb)):
            worst = max(worst, float(np.abs(a - r).max() / max(np.abs(r).max(), 1e-300)))
    return worst


def test_framework_draw_is_the_tutorials_dense_defaults():
    spec = keras_defaults(seed=3)
    layers = framework_layers(spec)
    with keras_floatx("float64"):
        expected = dense_layers(tutorial_model(3))
    for layer, want in zip(layers, expected, strict=True):
        np.testing.assert_array_equal(layer.weight, want.weight)
        np.testing.assert_array_equal(layer.bias, 0.0)  # Dense's default bias is zeros
        fan_in, fan_out = layer.weight.shape[1], layer.weight.shape[0]
        assert np.abs(layer.weight).max() <= np.sqrt(6 / (fan_in + fan_out))


def test_framework_draw_of_torch_init_is_one_over_root_fan_in():
    spec = ModelSpec(
        Network(LAYERS), init=Init("fan_in_uniform", bias="like_weights", draw="framework")
    )
    for layer in framework_layers(spec):
        bound = 1 / np.sqrt(layer.weight.shape[1])
        assert np.abs(layer.weight).max() <= bound and np.abs(layer.bias).max() <= bound
        assert np.abs(layer.weight).max() > 0.9 * bound  # the whole range, not a narrower one
    normal = ModelSpec(Network(LAYERS), init=Init("xavier_normal", draw="framework"))
    with pytest.raises(SpecError, match=r"init\.draw: "):
        framework_layers(normal)


def test_tutorial_loss_form_trains_from_the_logits_as_the_reference():
    """softmax output + CategoricalCrossentropy() (from_logits=False) + Adam(1e-3), float64,
    fit on the shared order: the reference with Keras's default set and form = "logits"."""
    x, labels = data(1)
    y = np.eye(10)[labels]
    with keras_floatx("float64"):
        model = tutorial_model(4)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.CategoricalCrossentropy()
        )
        spec = keras_defaults(batch_order="shared", seed=4)
        reference = NumpyEngine(spec, x, labels, dense_layers(model))
        for epoch in range(EPOCHS):
            order = np.random.default_rng([4, 1, epoch]).permutation(N)
            model.fit(x[order], y[order], batch_size=BATCH, shuffle=False, verbose=0)
            reference.train_batches(order, BATCH, 1e-3)
    assert relative(dense_layers(model), reference.get_layers()) < 1e-10
    clipped = replace(spec, loss=Loss(form="clipped_probabilities"))
    with pytest.raises(ConventionError, match=r"loss\.form: Keras's TensorFlow backend"):
        TFEngine(clipped, x, labels, device="cpu")


def test_engine_with_keras_defaults_equals_the_reference_in_float64():
    x, labels = data(2)
    spec = keras_defaults(batch_order="shared", seed=6)
    engine = TFEngine(spec, x, labels, device="cpu")
    reference = NumpyEngine(spec, x, labels, engine.get_layers())
    for epoch in range(EPOCHS):
        order = np.random.default_rng([6, 1, epoch]).permutation(N)
        np.testing.assert_allclose(
            engine.train_batches(order, BATCH, 1e-3),
            reference.train_batches(order, BATCH, 1e-3),
            rtol=1e-10,
        )
    assert relative(engine.get_layers(), reference.get_layers()) < 1e-10


def test_framework_order_is_fits_own_shuffle_and_reproducible():
    x, labels = data(3)
    runs = []
    for _ in range(2):
        engine = TFEngine(keras_defaults(seed=7), x, labels, device="cpu")
        for _ in range(2):
            engine.train_batches(np.arange(N), BATCH, 1e-3)
        runs.append(engine.get_layers())
    assert relative(runs[0], runs[1]) == 0.0
    shared = TFEngine(keras_defaults(batch_order="shared", seed=7), x, labels, device="cpu")
    for epoch in range(2):
        shared.train_batches(np.random.default_rng([7, 1, epoch]).permutation(N), BATCH, 1e-3)
    assert relative(shared.get_layers(), runs[0]) > 1e-6  # another order, other weights


@pytest.mark.parametrize("allowed", [True, False])
def test_tf32_switch_is_passed_to_tensorflow(allowed):
    x, labels = data()
    previous = tf.config.experimental.tensor_float_32_execution_enabled()
    try:
        set_tf32(not allowed)
        TFEngine(ModelSpec(Network(LAYERS), training=Training(tf32=allowed)), x, labels)
        assert tf.config.experimental.tensor_float_32_execution_enabled() is allowed
    finally:
        set_tf32(previous)
