"""The weight format: round trips, every malformed case, and a fuzzed loader."""

import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load as safetensors_load
from safetensors.numpy import load_file
from safetensors.numpy import save as safetensors_bytes

import mlp_numpy
from mlp_numpy import weights as weights_module
from mlp_numpy.initializers import initial_layers
from mlp_numpy.layer import Layer
from mlp_numpy.preprocessing import Preprocessing
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


def load_metadata(path):
    with safe_open(path, framework="numpy") as f:
        return f.metadata()


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
    model = mlp_numpy.Model(NETWORK, layers(), SPEC)
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
    "header above the cap": (
        struct.pack("<Q", 10**9) + b"{}",
        "header length 1000000000 exceeds the safetensors limit of 100000000 bytes",
    ),
    "header longer than the file": (
        struct.pack("<Q", 1000) + b"{}",
        "header length 1000 does not fit a 10-byte file",
    ),
    "header not json": (struct.pack("<Q", 4) + b"{{{{", "JSON header"),
    "header not an object": (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
    "no metadata": (safetensors_bytes(tensors_with()), "no metadata"),
    "unknown format": (file_bytes(format="other"), "unknown format 'other'"),
    "unknown version": (
        file_bytes(format_version="3"),
        'unsupported version \'3\', this reader accepts exactly "1" or "2"',
    ),
    "version not exactly the string": (file_bytes(format_version="1.0"), "version '1.0'"),
    "version padded": (file_bytes(format_version=" 1"), "version ' 1'"),
    "no format": (file_bytes(format=None), r"metadata format: missing \(expected 'mlp-weights'\)"),
    "no format_version": (
        file_bytes(format_version=None),
        r"""metadata format_version: missing \(expected "1" or "2"\)""",
    ),
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


# The data buffer: tensors packed back to back, as the safetensors library requires.


def packed_file(starts=None, buffer_size=None, padding=0):
    """NETWORK's file with a hand-built header: tensor i at byte `starts[i]` of a buffer of
    `buffer_size` bytes (default: packed back to back), the header padded with spaces."""
    arrays = {
        f"layers.{i}.{part}": np.ascontiguousarray(array, dtype="<f8")
        for i, layer in enumerate(layers())
        for part, array in zip(("weight", "bias"), layer, strict=True)
    }
    if starts is None:
        starts = list(np.cumsum([0, *(a.nbytes for a in arrays.values())])[:-1])
    ends = [int(s) + a.nbytes for s, a in zip(starts, arrays.values(), strict=True)]
    buffer = bytearray(buffer_size if buffer_size is not None else max(ends))
    header = {
        "__metadata__": {
            "format": FORMAT_NAME,
            "format_version": "1",
            "network": json.dumps({"layers": [4, 3, 2]}),
            "producer": "test",
        }
    }
    for (name, array), begin, end in zip(arrays.items(), starts, ends, strict=True):
        buffer[int(begin) : end] = array.tobytes()
        header[name] = {
            "dtype": "F64",
            "shape": list(array.shape),
            "data_offsets": [int(begin), end],
        }
    text = json.dumps(header).encode() + b" " * padding
    return struct.pack("<Q", len(text)) + text + bytes(buffer)


SIZES = [96, 24, 48, 16]  # layers.0.weight, layers.0.bias, layers.1.weight, layers.1.bias

BADLY_PACKED = {
    "overlap": (
        dict(starts=[0, 96, 112, 160], buffer_size=176),
        r"tensor layers.1.weight: data_offsets \[112, 160\] overlap tensor layers.0.bias "
        r"\(which ends at 120\)",
    ),
    "shared bytes": (
        dict(starts=[0, 96, 120, 120], buffer_size=168),
        "overlap tensor layers.1",
    ),
    "gap": (
        dict(starts=[0, 96, 128, 176], buffer_size=192),
        r"tensor layers.1.weight: a gap of 8 bytes before it \(bytes 120..128",
    ),
    "leading gap": (
        dict(starts=[8, 104, 128, 176], buffer_size=192),
        r"tensor layers.0.weight: a gap of 8 bytes before it \(bytes 0..8",
    ),
    "trailing bytes": (
        dict(buffer_size=184 + 5),
        r"5 trailing bytes after the last tensor \(the tensors end at byte 184",
    ),
}


def test_the_hand_built_file_is_valid_with_and_without_header_padding():
    for padding in (0, 5):
        data = packed_file(padding=padding)
        assert parse_weights(data).network == NETWORK
        assert set(safetensors_load(data)) == {
            f"layers.{i}.{p}" for i in (0, 1) for p in ("weight", "bias")
        }


@pytest.mark.parametrize("case", BADLY_PACKED)
def test_badly_packed_buffers_are_refused_like_safetensors_does(case):
    layout, message = BADLY_PACKED[case]
    data = packed_file(**layout)
    with pytest.raises(WeightFormatError, match=message):
        parse_weights(data)
    with pytest.raises(SafetensorError):  # the safetensors library refuses the same file
        safetensors_load(data)


def test_the_header_cap_is_named_even_when_the_header_fits(monkeypatch):
    data = file_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    monkeypatch.setattr(weights_module, "MAX_HEADER_BYTES", size - 1)
    with pytest.raises(WeightFormatError, match=f"header length {size} exceeds"):
        parse_weights(data)


# Version 2: the input preprocessing.

STANDARDIZE = {"scaling": "standardize", "mean": 0.5, "std": 0.25, "input_shape": [2, 2]}


def test_version_2_round_trip(tmp_path):
    path = tmp_path / "w.safetensors"
    recorded = Preprocessing("standardize", 0.5, 0.25, (2, 2))
    save_weights(path, layers(), NETWORK, producer="test", preprocessing=recorded)
    loaded = load_weights(path)
    assert loaded.format_version == 2 and loaded.preprocessing == recorded
    assert json.loads(load_metadata(path)["preprocessing"]) == STANDARDIZE
    save_weights(path, layers(), NETWORK, producer="test")
    assert load_weights(path).format_version == 1 and load_weights(path).preprocessing is None


def test_save_refuses_a_preprocessing_that_does_not_fit_the_network(tmp_path):
    with pytest.raises(ValueError, match="input_shape 28 × 28 flattens to 784 inputs"):
        save_weights(
            tmp_path / "w.safetensors",
            layers(),
            NETWORK,
            producer="test",
            preprocessing=Preprocessing("unit"),
        )
    assert list(tmp_path.iterdir()) == []


V2_FILES = {
    "version 2 without preprocessing": (
        file_bytes(format_version="2"),
        "metadata preprocessing: missing",
    ),
    "preprocessing in a version 1 file": (
        file_bytes(preprocessing=json.dumps(STANDARDIZE)),
        r"unknown keys \['preprocessing'\] for format_version '1'",
    ),
    "preprocessing not json": (
        file_bytes(format_version="2", preprocessing="{"),
        "metadata preprocessing: not valid JSON",
    ),
    "unknown scaling": (
        file_bytes(format_version="2", preprocessing=json.dumps(STANDARDIZE | {"scaling": "z"})),
        "metadata preprocessing: preprocessing.scaling: must be one of none, unit, standardize",
    ),
    "no std": (
        file_bytes(
            format_version="2",
            preprocessing=json.dumps({k: v for k, v in STANDARDIZE.items() if k != "std"}),
        ),
        r"preprocessing.std: missing \(needed to standardize\)",
    ),
    "zero std": (
        file_bytes(format_version="2", preprocessing=json.dumps(STANDARDIZE | {"std": 0})),
        "preprocessing.std: must be positive",
    ),
    "mean for unit scaling": (
        file_bytes(
            format_version="2",
            preprocessing=json.dumps({"scaling": "unit", "mean": 0.1, "input_shape": [4]}),
        ),
        "preprocessing.mean: only for scaling 'standardize'",
    ),
    "mean not a number": (
        file_bytes(format_version="2", preprocessing=json.dumps(STANDARDIZE | {"mean": "0.5"})),
        "preprocessing.mean: a finite number",
    ),
    "no input shape": (
        file_bytes(format_version="2", preprocessing=json.dumps({"scaling": "none"})),
        "preprocessing.input_shape: missing",
    ),
    "input shape of the wrong size": (
        file_bytes(
            format_version="2", preprocessing=json.dumps(STANDARDIZE | {"input_shape": [28, 28]})
        ),
        "input_shape 28 × 28 flattens to 784 inputs, but the network's input layer has 4",
    ),
    "unknown preprocessing key": (
        file_bytes(format_version="2", preprocessing=json.dumps(STANDARDIZE | {"dtype": "f4"})),
        r"preprocessing: unknown keys \['dtype'\]",
    ),
}


@pytest.mark.parametrize("case", V2_FILES)
def test_bad_version_2_metadata_is_named(case):
    data, message = V2_FILES[case]
    with pytest.raises(WeightFormatError, match=message):
        parse_weights(data)


def test_load_predicts_raw_images_with_the_files_preprocessing(tmp_path):
    path = tmp_path / "w.safetensors"
    recorded = Preprocessing("standardize", 0.5, 0.25, (2, 2))
    save_weights(path, layers(), NETWORK, producer="test", preprocessing=recorded)
    model = mlp_numpy.load(path)
    images = np.random.default_rng(0).integers(0, 256, size=(5, 2, 2), dtype=np.uint8)
    prepared = (images.reshape(5, 4).astype(np.float32) / 255 - 0.5) / 0.25
    np.testing.assert_array_equal(model.predict_proba(images), model.predict_proba(prepared))
    np.testing.assert_array_equal(
        model.predict_proba(images.reshape(5, 4)), model.predict_proba(prepared)
    )
    again = tmp_path / "again.safetensors"
    model.save(again)  # the loaded model keeps its preprocessing
    assert load_weights(again).preprocessing == recorded
