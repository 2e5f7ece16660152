"""Every conformance file of the weight format loads and gives its expected results:
the outputs through `mlp_jax.load`, the loss through the engine's Optax loss, and the
gradients through `nnx.grad`, in the file's dtype."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import nnx

import mlp_jax
from mlp_jax.losses import make_loss, targets
from mlp_numpy.weights import load_weights

CONFORMANCE = Path(__file__).resolve().parents[3] / "docs" / "conformance"
CASES = sorted(CONFORMANCE.glob("*.json"))


def test_the_conformance_files_are_there():
    assert len(CASES) >= 4, f"expected the conformance files in {CONFORMANCE}"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_conformance_case(case):
    expected = json.loads(case.read_text())
    tolerance = expected["tolerance"]
    path = CONFORMANCE / expected["weights"]
    model = mlp_jax.load(path, device="cpu")
    spec = load_weights(path).spec
    x = np.array(expected["input"], dtype=expected["dtype"])

    output = model.predict_proba(x)
    assert output.dtype == np.dtype(expected["dtype"])
    np.testing.assert_allclose(output, expected["output"], **tolerance)
    if "images" in expected:  # version 2: the file's preprocessing, applied by predict
        images = np.array(expected["images"], dtype=np.uint8)
        np.testing.assert_allclose(model.predict_proba(images), expected["output"], **tolerance)

    if "prediction" in expected:
        np.testing.assert_allclose(model.predict(x), expected["prediction"], **tolerance)

    module = model.module
    given = expected["labels"] if "labels" in expected else expected["targets"]
    y = targets(np.array(given), spec.loss, spec.network, x.dtype)
    if spec.loss.name != "cross_entropy":  # the (N, K) targets the file holds for its loss
        np.testing.assert_array_equal(y, np.array(expected["targets"], dtype=x.dtype))
    loss = make_loss(spec.loss, spec.network)
    value, grads = nnx.value_and_grad(lambda module: loss(module(x), y))(module)
    assert value.dtype == x.dtype
    np.testing.assert_allclose(float(value), expected["loss"], **tolerance)
    gradients = {}
    for i, linear in grads["linears"].items():  # an nnx.State: layer number -> its gradients
        kernel = np.asarray(linear["kernel"][...])  # (in, out): the weight transposed
        gradients[f"layers.{i}.weight"] = kernel.T
        if "bias" in linear:
            gradients[f"layers.{i}.bias"] = np.asarray(linear["bias"][...])
    assert set(gradients) == set(expected["gradients"])
    for name, gradient in gradients.items():
        assert gradient.dtype == x.dtype
        np.testing.assert_allclose(gradient, expected["gradients"][name], **tolerance)
    assert jax.tree.leaves(nnx.state(module))[0].dtype == x.dtype
