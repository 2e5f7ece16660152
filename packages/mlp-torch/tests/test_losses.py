"""The engine's losses are PyTorch's, with the spec's reductions: each equals the spec's
formula (docs/model-spec.md#losses), written here in float64 NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlp_numpy.conventions import ConventionError
from mlp_numpy.spec import Loss, Network
from mlp_torch.losses import make_loss, targets

N, K = 7, 3


def network(output: str) -> Network:
    return Network((4, K), output=output)


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, z)


def spec_loss(z: np.ndarray, labels: np.ndarray, loss: Loss, output: str) -> float:
    y = np.eye(K)[labels]
    divisor = N * K if loss.reduction == "mean" and loss.name != "cross_entropy" else N
    if loss.name == "cross_entropy":
        terms = np.log(np.exp(z).sum(axis=1)) - (z * y).sum(axis=1)
    elif loss.name == "bce":
        terms = softplus(z) - y * z
    else:
        a = {
            "softmax": np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
            "sigmoid": 1 / (1 + np.exp(-z)),
            "identity": z,
        }[output]
        terms = (a - y) ** 2
    return float(terms.sum() / divisor)


CASES = [
    ("cross_entropy", "softmax"),
    ("bce", "sigmoid"),
    ("mse", "softmax"),
    ("mse", "sigmoid"),
    ("mse", "identity"),
]


@pytest.mark.parametrize("reduction", ["mean", "sum_outputs"])
@pytest.mark.parametrize(("name", "output"), CASES)
def test_loss_is_the_spec_formula(name, output, reduction):
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(N, K, dtype=torch.float64, generator=generator) * 3
    labels = torch.randint(0, K, (N,), generator=generator)
    loss = Loss(name=name, reduction=reduction)
    value = make_loss(loss, network(output))(z, targets(labels, loss, K, torch.float64))
    assert value.dtype == torch.float64 and value.dim() == 0
    expected = spec_loss(z.numpy(), labels.numpy(), loss, output)
    assert value.item() == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_loss_is_in_the_training_dtype(dtype):
    z = torch.zeros(2, K, dtype=dtype)
    value = make_loss(Loss(), network("softmax"))(z, torch.tensor([0, 2]))
    assert value.dtype == dtype
    assert value.item() == pytest.approx(np.log(K), rel=1e-6)


def test_bce_is_finite_for_saturated_logits():
    z = torch.tensor([[200.0, -200.0]], dtype=torch.float64)
    loss = Loss(name="bce", reduction="sum_outputs")
    value = make_loss(loss, network("sigmoid"))(z, torch.tensor([[0.0, 1.0]], dtype=torch.float64))
    assert value.item() == pytest.approx(400.0)


def test_cross_entropy_targets_are_the_labels_and_others_one_hot():
    labels = torch.tensor([2, 0])
    assert targets(labels, Loss(), K, torch.float32) is labels
    one_hot = targets(labels, Loss(name="mse"), K, torch.float32)
    assert one_hot.dtype == torch.float32
    assert one_hot.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_clipped_probabilities_have_no_torch_built_in():
    with pytest.raises(ConventionError, match=r"^loss\.form: PyTorch's cross-entropy losses"):
        make_loss(Loss(form="clipped_probabilities"), network("softmax"))
