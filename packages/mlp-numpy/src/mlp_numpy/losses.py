"""Losses, each beside its gradient with respect to the logits z (docs/model-spec.md#losses).

`z` are the output layer's pre-activations, `a = f(z)` the network's outputs, `y` the
targets (inputs.py), all of shape (N, K). `value` is the batch loss, computed in the
arrays' dtype (float32 training reports a float32 loss); `gradient` is ∂L/∂z, where
backpropagation starts (its division by N or D is a product with 1/N or 1/D, as
PyTorch's mean reductions compute it).

    cross_entropy  L = (1/N) Σ_n [logsumexp(z_n) − Σ_k y_nk z_nk]      ∂L/∂z = (a − y) / N
    mse            L = (1/D) Σ (a − y)²                                ∂L/∂a = 2 (a − y) / D
    bce            L = (1/D) Σ [softplus(z) − y z]                     ∂L/∂z = (a − y) / D

D is the number of terms averaged over: N·K for reduction "mean" (as PyTorch's
MSELoss and BCELoss), N for "sum_outputs" (sum over outputs, mean over samples).
Cross-entropy always divides by N. mse passes ∂L/∂a through the output activation's
Jacobian; cross-entropy (with softmax) and bce (with sigmoid) use the fused forms
above, which never divide by a probability.

These are the forms from the logits, the reference's own (`loss.form = "logits"`).
Where another framework's loss starts from the probabilities a instead (Keras's
`from_logits=False`, PyTorch's `BCELoss`), the spec names that form and
framework_losses.py computes it (docs/model-spec.md#loss-forms).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .activations import output_activation
from .conventions import FRAMEWORK
from .spec import Loss, Network


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max(z, 0) + log1p(e^(−|z|)), finite for every finite z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class CrossEntropy:
    """Cross-entropy of softmax outputs, from the logits."""

    name = "cross_entropy"

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
        """(1/N) Σ_n [logsumexp(z_n) − z_n·y_n], the mean of −log softmax(z_n)_label.

        With m_n = max_k z_nk, logsumexp(z_n) = m_n + log Σ_k e^(z_nk − m_n), whose
        exponentials are at most 1; m_n cancels against z_n·y_n as Σ_k y_nk = 1. The
        label terms are summed in one product, Σ_nk (z_nk − m_n) y_nk.
        """
        shifted = z - z.max(axis=1, keepdims=True)  # z_nk − m_n ≤ 0
        log_sums = np.log(np.exp(shifted).sum(axis=1))
        return float((log_sums.sum() - np.vdot(shifted, y)) / len(z))

    def gradient(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂L/∂z = (softmax(z) − y) / N."""
        return (a - y) * (1 / len(z))


class MeanSquaredError:
    """Squared error of the outputs a, averaged over N·K ("mean") or N ("sum_outputs")."""

    name = "mse"

    def __init__(self, reduction: str, output) -> None:
        self.reduction = reduction
        self.output = output

    def divisor(self, n: int, k: int) -> int:
        return n * k if self.reduction == "mean" else n

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
        """(1/D) Σ (a − y)²."""
        error = a - y
        return float((error * error).sum() / self.divisor(*z.shape))

    def gradient(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂L/∂a = 2 (a − y) / D, then ∂L/∂z through the output activation."""
        return self.output.backward(a, (a - y) * (2 / self.divisor(*z.shape)))


class BinaryCrossEntropy:
    """Binary cross-entropy of sigmoid outputs, from the logits."""

    name = "bce"

    def __init__(self, reduction: str) -> None:
        self.reduction = reduction

    def divisor(self, n: int, k: int) -> int:
        return n * k if self.reduction == "mean" else n

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
        """(1/D) Σ [softplus(z) − y z] = −(1/D) Σ [y log σ(z) + (1 − y) log(1 − σ(z))]."""
        return float((softplus(z) - y * z).sum() / self.divisor(*z.shape))

    def gradient(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂L/∂z = (σ(z) − y) / D."""
        return (a - y) * (1 / self.divisor(*z.shape))


class BatchLoss(Protocol):
    """What the network needs of a loss: its value and ∂L/∂z on a batch."""

    name: str

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float: ...

    def gradient(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray: ...


def make_loss(loss: Loss, network: Network) -> BatchLoss:
    """The spec's `loss` for `network`, whose output activation mse (and the probability
    forms) differentiate through: the forms from the logits above, or, where `loss.form`
    names another framework's form, that form (framework_losses.py)."""
    output = output_activation(network.output)
    if loss.form not in (FRAMEWORK, "logits"):
        from .framework_losses import make_framework_loss  # that module builds on this one

        return make_framework_loss(loss, output)
    if loss.name == "cross_entropy":
        return CrossEntropy()
    if loss.name == "mse":
        return MeanSquaredError(loss.reduction, output)
    return BinaryCrossEntropy(loss.reduction)
