"""The shared weight format: files written here, by mlp-numpy and by mlp-torch load
everywhere with the same numbers."""

import numpy as np
import pytest

import mlp_numpy
import mlp_tf
import mlp_torch
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Init, ModelSpec, Network, Training
from mlp_numpy.weights import WeightFormatError, load_weights


def spec_for(dtype: str, bias: bool = True) -> ModelSpec:
    return ModelSpec(
        Network(layers=(784, 32, 16, 10), bias=bias),
        init=Init("he_normal", bias="like_weights"),
        training=Training(dtype=dtype),
    )


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_and_load_keep_every_number(tmp_path, dtype, bias):
    spec = spec_for(dtype, bias)
    layers = initial_layers(spec)
    path = tmp_path / "model.safetensors"
    mlp_tf.Model(spec.network, layers, spec).save(path)

    loaded = mlp_tf.load(path)
    assert loaded.network == spec.network and loaded.spec == spec
    for expected, actual in zip(layers, loaded.layers(), strict=True):
        assert actual.weight.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(actual.weight, expected.weight)
        if bias:
            np.testing.assert_array_equal(actual.bias, expected.bias)
        else:
            assert actual.bias is None
    assert load_weights(path).producer == f"mlp-tf {mlp_tf.__version__}"
    reference = mlp_numpy.load(path)
    for expected, actual in zip(layers, reference.layers(), strict=True):
        np.testing.assert_array_equal(actual.weight, expected.weight)


def test_a_malformed_file_is_refused_by_name(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"not a weight file")
    with pytest.raises(WeightFormatError, match=r"bad\.safetensors"):
        mlp_tf.load(path)


def test_a_file_written_by_mlp_torch_loads_here_and_back(mnist_train, mnist_test, tmp_path):
    spec = ModelSpec(Network(layers=(784, 64, 10)), training=Training(epochs=1))
    x, labels = mnist_train[0][:3000], mnist_train[1][:3000]
    torch_model, _ = mlp_torch.train(spec, x, labels, device="cpu")
    torch_file = tmp_path / "torch.safetensors"
    torch_model.save(torch_file)
    assert load_weights(torch_file).producer.startswith("mlp-torch")

    model = mlp_tf.load(torch_file)
    x_test = mnist_test[0]
    expected = torch_model.predict_proba(x_test)
    assert np.max(np.abs(model.predict_proba(x_test) - expected)) <= 4e-6
    np.testing.assert_array_equal(model.predict(x_test), expected.argmax(axis=1))

    tf_file = tmp_path / "tf.safetensors"
    model.save(tf_file)
    back = mlp_torch.load(tf_file, device="cpu")
    for expected_layer, actual in zip(torch_model.layers(), back.layers(), strict=True):
        np.testing.assert_array_equal(actual.weight, expected_layer.weight)
        np.testing.assert_array_equal(actual.bias, expected_layer.bias)
