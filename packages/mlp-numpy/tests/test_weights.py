"""The weight format: round trips, every malformed case, and a fuzzed loader."""

import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import load_file
from safetensors.numpy import save as safetensors_bytes

import mlp_numpy
from mlp_numpy.init import initial_layers
from mlp_numpy.layer import Layer
from mlp_numpy.spec import ModelSpec, Network, Training
from mlp_numpy.weights import (
    FORMAT_NAME,
    WeightFormatError,
    load_weights,
    parse_weights,
    save_weights,
)

NETWORK = Network(layers=(4, 3, 2))
SPEC = ModelSpec(NETWORK, training=Training(dtype="float64"))


def layers(dtype="float64", bias=True):
    spec = ModelSpec(Network(layers=(4, 3, 2), bias=bias), training=Training(dtype=dtype))
    return initial_layers(spec)


def file_bytes(tensors=None, **metadata):
    """A safetensors file for NETWORK, with tensors and metadata overridable."""
    if tensors is None:
        tensors = {
            f"layers.{i}.{part}": array
            for i, layer in enumerate(layers())
            for part, array in zip(("weight", "bias"), layer, strict=True)
        }
    meta = {
        "format": FORMAT_NAME,
        "format_version": "1",
        "network": json.dumps({"layers": [4, 3, 2]}),
        "producer": "test",
    }
    meta.update(metadata)
    meta = {k: v for k, v in meta.items() if v is not None}
    return safetensors_bytes(tensors, metadata=meta)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
def test_round_trip(tmp_path, dtype, bias):
    network = Network(layers=(4, 3, 2), bias=bias)
    spec = ModelSpec(network, training=Training(dtype=dtype))
    original = layers(dtype, bias)
    path = tmp_path / "w.safetensors"
    save_weights(path, original, network, producer="mlp-numpy test", spec=spec)
    loaded = load_weights(path, expect=network)
    assert loaded.network == network and loaded.spec == spec
    assert loaded.producer == "mlp-numpy test" and loaded.format_version == 1
    for (w0, b0), (w1, b1) in zip(original, loaded.layers, strict=True):
        assert w1.dtype == np.dtype(dtype) and np.array_equal(w0, w1)
        assert (b1 is None) if not bias else np.array_equal(b0, b1)
    assert list(tmp_path.iterdir()) == [path]


def test_files_are_plain_safetensors(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, layers(), NETWORK, producer="test")
    tensors = load_file(path)
    assert tensors["layers.0.weight"].shape == (3, 4)  # (out_features, in_features)
    assert tensors["layers.1.bias"].shape == (2,)


def test_model_save_and_load(tmp_path):
    model = mlp_numpy.MLP(NETWORK, layers(), SPEC)
    model.save(tmp_path / "m.safetensors")
    again = mlp_numpy.load(tmp_path / "m.safetensors")
    x = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(model.predict_proba(x), again.predict_proba(x))
    assert again.spec == SPEC


def test_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, layers(), NETWORK, producer="first")
    broken = [Layer(np.full((3, 4), np.nan), np.zeros(3)), *layers()[1:]]
    with pytest.raises(WeightFormatError, match="NaN"):
        save_weights(path, broken, NETWORK, producer="second")
    assert load_weights(path).producer == "first"
    assert list(tmp_path.iterdir()) == [path]


def tensors_with(**changes):
    tensors = {
        f"layers.{i}.{part}": array
        for i, layer in enumerate(layers())
        for part, array in zip(("weight", "bias"), layer, strict=True)
    }
    tensors.update(changes)
    return {k: v for k, v in tensors.items() if v is not None}


BAD_FILES = {
    "empty": (b"", "too short"),
    "header length too long": (struct.pack("<Q", 10**9) + b"{}", "header length"),
    "header not json": (struct.pack("<Q", 4) + b"{{{{", "JSON header"),
    "header not an object": (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
    "no metadata": (safetensors_bytes(tensors_with()), "no metadata"),
    "unknown format": (file_bytes(format="other"), "unknown format 'other'"),
    "unknown version": (file_bytes(format_version="2"), "unsupported version '2'"),
    "no network": (file_bytes(network=None), "metadata network: missing"),
    "no producer": (file_bytes(producer=None), "metadata producer: missing"),
    "network not json": (file_bytes(network="{"), "metadata network: not valid JSON"),
    "network invalid": (
        file_bytes(network='{"layers": [4, 3, 2], "hidden": "gelu"}'),
        r"metadata network: network\.hidden",
    ),
    "unknown metadata": (file_bytes(comment="hi"), r"unknown keys \['comment'\]"),
    "spec contradicts network": (
        file_bytes(spec=json.dumps(ModelSpec(Network(layers=(4, 2))).to_dict())),
        "spec: its network differs",
    ),
    "spec dtype contradicts tensors": (
        file_bytes(spec=json.dumps(ModelSpec(NETWORK).to_dict())),
        "tensors are float64 but spec training.dtype is float32",
    ),
    "missing tensor": (
        file_bytes(tensors_with(**{"layers.1.bias": None})),
        r"missing tensors \['layers.1.bias'\]",
    ),
    "extra tensor": (
        file_bytes(tensors_with(**{"layers.2.weight": np.zeros((2, 2))})),
        r"unexpected tensors \['layers.2.weight'\]",
    ),
    "transposed weight": (
        file_bytes(tensors_with(**{"layers.0.weight": np.zeros((4, 3))})),
        r"layers.0.weight: shape \(4, 3\), expected \(3, 4\)",
    ),
    "wrong bias shape": (
        file_bytes(tensors_with(**{"layers.0.bias": np.zeros((1, 3))})),
        r"layers.0.bias: shape \(1, 3\)",
    ),
    "integer dtype": (
        file_bytes(tensors_with(**{"layers.0.bias": np.zeros(3, dtype=np.int32)})),
        "dtype 'I32', expected F32 or F64",
    ),
    "mixed dtypes": (
        file_bytes(tensors_with(**{"layers.0.bias": np.zeros(3, dtype=np.float32)})),
        "mix dtypes",
    ),
    "nan": (
        file_bytes(tensors_with(**{"layers.1.weight": np.full((2, 3), np.nan)})),
        "layers.1.weight: holds NaN",
    ),
    "infinity": (
        file_bytes(tensors_with(**{"layers.0.bias": np.array([0, np.inf, 0])})),
        "layers.0.bias: holds NaN or infinite",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_malformed_files_are_named(tmp_path, case):
    data, message = BAD_FILES[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(WeightFormatError, match=message):
        load_weights(path)


def test_truncated_data():
    data = file_bytes()
    with pytest.raises(WeightFormatError, match="data_offsets"):
        parse_weights(data[:-8])


def test_expect_rejects_another_network():
    with pytest.raises(WeightFormatError, match="expected"):
        parse_weights(file_bytes(), expect=Network(layers=(4, 5, 2)))
    assert parse_weights(file_bytes(), expect=NETWORK).network == NETWORK


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_only_weight_format_errors(data):
    with pytest.raises(WeightFormatError):
        parse_weights(data)


VALID = file_bytes()
HEADER_SIZE = struct.unpack("<Q", VALID[:8])[0]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 8 + HEADER_SIZE - 1), st.integers(0, 255)), min_size=1, max_size=6
    )
)
def test_mutated_headers_give_only_weight_format_errors(mutations):
    data = bytearray(VALID)
    for position, value in mutations:
        data[position] = value
    try:
        result = parse_weights(bytes(data))
    except WeightFormatError:
        return
    assert len(result.layers) == 2  # a mutation inside a string may leave the file valid


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(VALID) - 1))
def test_truncated_files_give_only_weight_format_errors(length):
    with pytest.raises(WeightFormatError):
        parse_weights(VALID[:length])
