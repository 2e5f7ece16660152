"""Every conformance file of the weight format loads and gives its expected results:
the outputs through `mlp_torch.load`, the loss and the gradients through the engine's
own forward, loss and backward functions, in the file's dtype."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import mlp_torch
from mlp_numpy.weights import load_weights
from mlp_torch.network import backward, forward_trace, loss_and_delta

CONFORMANCE = Path(__file__).resolve().parents[3] / "docs" / "conformance"
CASES = sorted(CONFORMANCE.glob("*.json"))


def test_the_conformance_files_are_there():
    assert len(CASES) >= 4, f"expected the conformance files in {CONFORMANCE}"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_conformance_case(case):
    expected = json.loads(case.read_text())
    tolerance = expected["tolerance"]
    path = CONFORMANCE / expected["weights"]
    model = mlp_torch.load(path, device="cpu")
    spec = load_weights(path).spec
    x = np.array(expected["input"], dtype=expected["dtype"])

    output = model.predict_proba(x)
    assert output.dtype == np.dtype(expected["dtype"])
    np.testing.assert_allclose(output, expected["output"], **tolerance)

    network = model.module
    classes = spec.network.layers[-1]
    y = torch.nn.functional.one_hot(torch.tensor(expected["labels"]), classes)
    y = y.to(network.linears[0].weight.dtype)
    with torch.no_grad():
        trace = forward_trace(network.layer_tensors(), torch.from_numpy(x), spec.network)
        loss, delta = loss_and_delta(trace[-1], y, spec.loss, spec.network.output)
        gradients = backward(network.layer_tensors(), trace, delta, spec.network)
    np.testing.assert_allclose(loss.item(), expected["loss"], **tolerance)
    names = [n for n, _ in network.named_parameters()]
    assert len(names) == len(expected["gradients"])
    for name, gradient in zip(names, gradients, strict=True):
        file_name = name.replace("linears.", "layers.")
        np.testing.assert_allclose(gradient.numpy(), expected["gradients"][file_name], **tolerance)
