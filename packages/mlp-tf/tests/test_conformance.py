"""Every conformance file of the weight format (docs/conformance) loads and gives its expected
results: the outputs through `mlp_tf.load`, the loss and the gradients through the Keras model
and Keras loss the engine trains with (gradients from `tf.GradientTape`), in the file's dtype."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import mlp_tf
from mlp_numpy.weights import load_weights
from mlp_tf.losses import from_logits, loss_weight, make_loss
from mlp_tf.network import MLP, keras_floatx

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
    dtype = expected["dtype"]
    x = np.array(expected["input"], dtype=dtype)

    output = model.predict_proba(x)
    assert output.dtype == np.dtype(dtype)
    np.testing.assert_allclose(output, expected["output"], **tolerance)

    spec = load_weights(path).spec
    with keras_floatx(dtype):
        network = MLP(spec.network, model.layers(), dtype, logits=from_logits(spec.loss))
        loss_fn = make_loss(spec.loss, spec.network)
        weight = loss_weight(spec.loss, spec.network)
    y = tf.constant(expected["targets"], dtype=dtype)  # one-hot rows, 0/1 column or values
    with tf.GradientTape() as tape:
        loss = loss_fn(y, network(tf.constant(x))) * weight
    gradients = tape.gradient(loss, network.trainable_variables)
    assert loss.dtype == tf.as_dtype(dtype)
    np.testing.assert_allclose(loss.numpy(), expected["loss"], **tolerance)
    computed, i = {}, 0
    for layer, (_, bias) in enumerate(model.layers()):
        computed[f"layers.{layer}.weight"] = gradients[i].numpy().T  # kernel (in, out)
        i += 1
        if bias is not None:
            computed[f"layers.{layer}.bias"] = gradients[i].numpy()
            i += 1
    assert computed.keys() == expected["gradients"].keys()
    for name, gradient in computed.items():
        assert gradient.dtype == np.dtype(dtype)
        np.testing.assert_allclose(gradient, expected["gradients"][name], **tolerance)
