"""Every conformance file of the weight format loads and gives its expected results:
the outputs through `mlp_torch.load`, the loss through the engine's `torch.nn.functional`
loss, and the gradients through `loss.backward()`, in the file's dtype."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import mlp_torch
from mlp_numpy.weights import load_weights
from mlp_torch.losses import make_loss, targets

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
    dtype = network.linears[0].weight.dtype
    if spec.network.task == "classification":
        y = targets(torch.tensor(expected["labels"]), spec.loss, classes, dtype)
    else:  # a binary classifier's 0/1 column, a regression network's values
        y = torch.tensor(expected["targets"], dtype=dtype)
    loss = make_loss(spec.loss, spec.network)(network(torch.from_numpy(x)), y)
    loss.backward()
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.item(), expected["loss"], **tolerance)
    names = [n for n, _ in network.named_parameters()]
    assert len(names) == len(expected["gradients"])
    for name, parameter in network.named_parameters():
        file_name = name.replace("linears.", "layers.")
        np.testing.assert_allclose(
            parameter.grad.numpy(), expected["gradients"][file_name], **tolerance
        )
