"""The native `.keras` export: a Keras model of Dense layers that predicts what Model does."""

import keras
import numpy as np
import pytest

import mlp_tf
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Init, Loss, ModelSpec, Network, Training


@pytest.mark.parametrize(
    ("network", "dtype"),
    [
        (dict(hidden="relu", output="softmax"), "float32"),
        (dict(hidden="leaky_relu", leaky_slope=0.2, output="softmax"), "float32"),
        (dict(hidden="tanh", output="sigmoid", bias=False), "float32"),
        (dict(hidden="sigmoid", output="identity"), "float64"),
    ],
)
def test_the_keras_file_loads_and_predicts_the_same(mnist_test, tmp_path, network, dtype):
    spec = ModelSpec(
        Network(layers=(784, 32, 16, 10), **network),
        loss=Loss("mse") if network["output"] != "softmax" else Loss(),
        init=Init("xavier_uniform", bias="like_weights"),
        training=Training(dtype=dtype),
    )
    model = mlp_tf.Model(spec.network, initial_layers(spec), spec)
    path = tmp_path / "model.keras"
    model.save_keras(path)

    loaded = keras.models.load_model(path)
    dense = [layer for layer in loaded.layers if isinstance(layer, keras.layers.Dense)]
    for layer, (weight, bias) in zip(dense, model.layers(), strict=True):
        np.testing.assert_array_equal(layer.get_weights()[0], weight.T)  # kernel is (in, out)
        assert layer.use_bias == (bias is not None)
    x = mnist_test[0][:1000]
    expected = model.predict_proba(x)
    actual = loaded.predict(x.astype(dtype), verbose=0)
    assert actual.dtype == np.dtype(dtype)
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    assert np.max(np.abs(actual - expected)) <= tolerance


def test_a_keras_path_must_end_in_dot_keras(tmp_path):
    spec = ModelSpec(Network(layers=(4, 3)))
    model = mlp_tf.Model(spec.network, initial_layers(spec))
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        model.save_keras(tmp_path / "model.h5")
    assert list(tmp_path.iterdir()) == []
