"""The conformance files in docs/conformance: mlp_numpy reproduces them, and their
expected outputs, losses and gradients agree with a plain re-implementation here."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import mlp_numpy
from mlp_numpy.inputs import training_targets
from mlp_numpy.network import MLP
from mlp_numpy.weights import load_weights

FOLDER = Path(__file__).resolve().parents[3] / "docs" / "conformance"
CASES = sorted(p.stem for p in FOLDER.glob("*.json"))


def test_the_cases_are_there():
    assert len(CASES) >= 7
    assert all((FOLDER / f"{name}.safetensors").exists() for name in CASES)
    files = [load_weights(FOLDER / f"{name}.safetensors") for name in CASES]
    assert {f.format_version for f in files} == {1, 2}  # version 1 files stay, beside version 2
    assert {f.network.task for f in files} == {"classification", "binary", "regression"}


def plain_forward(layers, network, x):
    """The network written out with nothing but NumPy, in float64."""
    g = {
        "relu": lambda z: np.maximum(z, 0),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "tanh": np.tanh,
        "leaky_relu": lambda z: np.where(z > 0, z, network.leaky_slope * z),
    }[network.hidden]
    h = x
    for i, (w, b) in enumerate(layers):
        z = h @ w.astype(np.float64).T + (0 if b is None else b.astype(np.float64))
        h = g(z) if i < len(layers) - 1 else z
    if network.output == "softmax":
        e = np.exp(h - h.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if network.output == "sigmoid":
        return 1 / (1 + np.exp(-h))
    return h


def plain_loss(spec, layers, x, y):
    a = plain_forward(layers, spec.network, x)
    n, k = y.shape
    divisor = n * k if spec.loss.reduction == "mean" and spec.loss.name != "cross_entropy" else n
    if spec.loss.name == "cross_entropy":
        return -np.sum(y * np.log(a)) / n
    if spec.loss.name == "bce":
        return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / divisor
    return np.sum((a - y) ** 2) / divisor


@pytest.mark.parametrize("name", CASES)
def test_expected_results_hold(name):
    expected = json.loads((FOLDER / f"{name}.json").read_text())
    weights = load_weights(FOLDER / expected["weights"])
    spec, layers = weights.spec, weights.layers
    assert spec is not None and layers[0].weight.dtype == np.dtype(expected["dtype"])
    x, y = np.array(expected["input"]), np.array(expected["targets"])
    tolerance = expected["tolerance"]

    # The targets: one-hot rows of class labels, a binary classifier's 0/1 labels as a
    # column, or a regression network's values (which it has instead of labels).
    task = spec.network.task
    assert ("labels" in expected) == (task != "regression")
    assert y.shape == (len(x), spec.network.layers[-1])
    if task == "classification":
        np.testing.assert_array_equal(y, np.eye(spec.network.num_classes)[expected["labels"]])
    elif task == "binary":
        np.testing.assert_array_equal(y[:, 0], expected["labels"])
    np.testing.assert_array_equal(training_targets(expected.get("labels", y), spec.network), y)

    # The model, in the file's dtype, within the stated tolerance.
    model = mlp_numpy.load(FOLDER / expected["weights"])
    np.testing.assert_allclose(model.predict_proba(x), expected["output"], **tolerance)
    # What predict returns: the largest output's class, 1 where P(class 1) > 0.5, or the
    # values ((N,) for one output).
    prediction = model.predict(x)
    if task == "regression":
        np.testing.assert_allclose(prediction, expected["prediction"], **tolerance)
    else:
        assert prediction.tolist() == expected["prediction"]
    output = np.array(expected["output"])
    want = {
        "classification": output.argmax(axis=1),
        "binary": (output[:, 0] > 0.5).astype(int),
        "regression": output[:, 0] if output.shape[1] == 1 else output,
    }[task]
    np.testing.assert_array_equal(expected["prediction"], want)

    # Version 2: the raw images, prepared by the file's preprocessing, are the input.
    assert ("images" in expected) == (weights.preprocessing is not None)
    if weights.preprocessing is not None:
        images = np.array(expected["images"], dtype=np.uint8)
        assert images.shape == (len(x), *weights.preprocessing.input_shape)
        assert np.array_equal(weights.preprocessing.apply(images).astype(np.float64), x)
        np.testing.assert_allclose(model.predict_proba(images), expected["output"], **tolerance)

    # A plain float64 re-implementation: outputs and loss.
    plain = plain_forward(layers, spec.network, x)
    np.testing.assert_allclose(plain, expected["output"], rtol=1e-12, atol=1e-14)
    assert plain_loss(spec, layers, x, y) == pytest.approx(expected["loss"], rel=1e-12)

    # The gradients: backprop in float64, and central differences of the plain loss.
    net = MLP(spec.network, spec.loss, np.float64)
    net.params.assign(layers)
    net.backward(net.forward(x), y)
    float64 = [
        mlp_numpy.Layer(w.astype(np.float64), None if b is None else b.astype(np.float64))
        for w, b in layers
    ]
    for key, want in expected["gradients"].items():
        i, part = int(key.split(".")[1]), key.split(".")[2]
        got = (net.grads.weights if part == "weight" else net.grads.biases)[i]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=key)
        tensor = float64[i].weight if part == "weight" else float64[i].bias
        numeric = np.empty_like(tensor)
        for index in np.ndindex(tensor.shape):
            kept = tensor[index]
            tensor[index] = kept + 1e-6
            above = plain_loss(spec, float64, x, y)
            tensor[index] = kept - 1e-6
            below = plain_loss(spec, float64, x, y)
            tensor[index] = kept
            numeric[index] = (above - below) / 2e-6
        np.testing.assert_allclose(numeric, want, rtol=1e-5, atol=1e-8, err_msg=key)


# The values the generator computes (rather than draws): BLAS may sum their products in
# another order on another machine, so they are compared to the float64 tolerance that the
# conformance README promises a float64 backend, which such rounding stays far below
# (measured: at most 5e-16 relative). Everything else must be reproduced exactly.
COMPUTED = ("output", "prediction", "loss", "gradients")
FLOAT64_AGREEMENT = {"rtol": 1e-12, "atol": 1e-14}


def test_generator_reproduces_the_files(tmp_path):
    spec = importlib.util.spec_from_file_location("generate", FOLDER / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.main(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in FOLDER.iterdir() if p.suffix in (".json", ".safetensors"))
    for name in made:
        if name.endswith(".json"):
            again = json.loads((tmp_path / name).read_text())
            committed = json.loads((FOLDER / name).read_text())
            assert again.keys() == committed.keys(), name
            for key, value in committed.items():
                if key not in COMPUTED:
                    assert again[key] == value, f"{name}: {key}"
            assert again["gradients"].keys() == committed["gradients"].keys(), name
            regression = "labels" not in committed  # its predictions are computed values
            assert regression or again["prediction"] == committed["prediction"], name
            for key in ("output", "loss", *(["prediction"] if regression else [])):
                np.testing.assert_allclose(
                    again[key], committed[key], **FLOAT64_AGREEMENT, err_msg=f"{name}: {key}"
                )
            for tensor, value in committed["gradients"].items():
                np.testing.assert_allclose(
                    again["gradients"][tensor], value, **FLOAT64_AGREEMENT, err_msg=name
                )
            continue
        # safetensors may order the header's keys differently: compare the content.
        again, committed = load_weights(tmp_path / name), load_weights(FOLDER / name)
        assert (
            again.network,
            again.spec,
            again.producer,
            again.format_version,
            again.preprocessing,
        ) == (
            committed.network,
            committed.spec,
            committed.producer,
            committed.format_version,
            committed.preprocessing,
        )
        for new, old in zip(again.layers, committed.layers, strict=True):
            assert new.weight.tobytes() == old.weight.tobytes()
            assert (
                new.bias is None and old.bias is None
            ) or new.bias.tobytes() == old.bias.tobytes()
