"""Every conformance file of the weight format (docs/conformance) loads and gives its expected
results: the outputs through `mlp_tf.load`, the loss and the gradients through the engine's own
`network.gradients`, in the file's dtype."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import mlp_tf
from mlp_numpy.weights import load_weights
from mlp_tf.network import gradients

CONFORMANCE = Path(__file__).resolve().parents[3] / "docs" / "conformance"
CASES = sorted(CONFORMANCE.glob("*.json"))


def test_the_conformance_files_are_there():
    assert len(CASES) >= 4, f"expected the conformance files in {CONFORMANCE}"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_conformance_case(case):
    expected = json.loads(case.read_text())
    tolerance = expected["tolerance"]
    path = CONFORMANCE / expected["weights"]
    model = mlp_tf.load(path, device="cpu")
    x = np.array(expected["input"], dtype=expected["dtype"])

    output = model.predict_proba(x)
    assert output.dtype == np.dtype(expected["dtype"])
    np.testing.assert_allclose(output, expected["output"], **tolerance)

    spec = load_weights(path).spec
    dtype = tf.as_dtype(expected["dtype"])
    layers = model.layers()
    kernels = [tf.constant(w.T) for w, _ in layers]  # the format's (out, in), transposed
    biases = [None if b is None else tf.constant(b) for _, b in layers]
    y = tf.one_hot(expected["labels"], spec.network.layers[-1], dtype=dtype)
    loss, kernel_grads, bias_grads = gradients(
        spec.network, spec.loss, kernels, biases, tf.constant(x), y
    )
    np.testing.assert_allclose(loss.numpy(), expected["loss"], **tolerance)
    computed = {}
    for i, (kernel_grad, bias_grad) in enumerate(zip(kernel_grads, bias_grads, strict=True)):
        computed[f"layers.{i}.weight"] = kernel_grad.numpy().T
        if bias_grad is not None:
            computed[f"layers.{i}.bias"] = bias_grad.numpy()
    assert computed.keys() == expected["gradients"].keys()
    for name, gradient in computed.items():
        assert gradient.dtype == np.dtype(expected["dtype"])
        np.testing.assert_allclose(gradient, expected["gradients"][name], **tolerance)
