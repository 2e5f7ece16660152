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

`loss.form` selects two frameworks' other forms (docs/model-spec.md#loss-forms), which
start from the probabilities a instead of the logits:

    clipped_probabilities  (cross_entropy; Keras's from_logits=False)
        p = a / Σ_k a_k,  q = clip(p, ε, 1 − ε),  ε = 1e-7
        L = −(1/N) Σ_nk y_nk log q_nk
        ∂L/∂p = −y / (N q) where ε ≤ p ≤ 1 − ε, else 0
        ∂L/∂a = (∂L/∂p − Σ_k ∂L/∂p_k p_k) / Σ_k a_k,  then through the softmax
    clamped_log  (bce; PyTorch's BCELoss on sigmoid outputs)
        L = −(1/D) Σ [y max(log a, −100) + (1 − y) max(log(1 − a), −100)]
        ∂L/∂a = (a − y) / max(a (1 − a), 1e-12) / D,  then through the sigmoid
        (PyTorch's backward ignores the clamp of the log)
"""

from __future__ import annotations

import numpy as np


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


class ClippedCrossEntropy:
    """Cross-entropy from the softmax outputs clipped to [ε, 1 − ε], as Keras computes it
    for `from_logits=False` (keras.src.backend.*.nn.categorical_crossentropy)."""

    name = "cross_entropy"
    epsilon = 1e-7  # keras.config.epsilon()

    def __init__(self, output) -> None:
        self.output = output

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
        """−(1/N) Σ_nk y_nk log clip(a_nk / Σ_k a_nk, ε, 1 − ε)."""
        p = a / a.sum(axis=1, keepdims=True)
        q = np.clip(p, self.epsilon, 1 - self.epsilon)
        return float(-(y * np.log(q)).sum() / len(z))

    def gradient(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂L/∂z from ∂L/∂p = −y / (N q) inside the clip range (0 outside), through the
        normalization p = a / Σ a and the softmax."""
        total = a.sum(axis=1, keepdims=True)
        p = a / total
        inside = (p >= self.epsilon) & (p <= 1 - self.epsilon)
        q = np.clip(p, self.epsilon, 1 - self.epsilon)
        grad_p = np.where(inside, -y / q, 0.0).astype(a.dtype) / len(z)  # ∂L/∂p
        grad_a = (grad_p - (grad_p * p).sum(axis=1, keepdims=True)) / total  # ∂L/∂a
        return self.output.backward(a, grad_a)  # ∂L/∂z = a ⊙ (∂L/∂a − Σ ∂L/∂a_j a_j)


class ClampedLogBinaryCrossEntropy:
    """Binary cross-entropy of the sigmoid outputs with each log clamped at −100, as
    PyTorch's `BCELoss` computes it, with PyTorch's gradient."""

    name = "bce"
    log_floor = -100.0
    denominator_floor = 1e-12  # aten's EPSILON in binary_cross_entropy_backward

    def __init__(self, reduction: str, output) -> None:
        self.reduction = reduction
        self.output = output

    def divisor(self, n: int, k: int) -> int:
        return n * k if self.reduction == "mean" else n

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
        """−(1/D) Σ [y max(log a, −100) + (1 − y) max(log(1 − a), −100)]."""
        with np.errstate(divide="ignore"):  # log 0 = −inf, clamped to −100
            log_a = np.maximum(np.log(a), self.log_floor)
            log_not_a = np.maximum(np.log(1 - a), self.log_floor)
        return float(-(y * log_a + (1 - y) * log_not_a).sum() / self.divisor(*z.shape))

    def gradient(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂L/∂a = (a − y) / max(a (1 − a), 1e-12) / D, then ∂L/∂z = ∂L/∂a · a (1 − a)."""
        scale = 1 / self.divisor(*z.shape)
        grad_a = scale * (a - y) / np.maximum((1 - a) * a, self.denominator_floor)
        return self.output.backward(a, grad_a)


def make_loss(
    name: str, reduction: str, output, form: str = "logits"
) -> (
    CrossEntropy
    | MeanSquaredError
    | BinaryCrossEntropy
    | ClippedCrossEntropy
    | ClampedLogBinaryCrossEntropy
):
    """The loss called `name` in the spec, in its `form`; `output` is the output activation
    (for mse and the probability forms)."""
    if form == "clipped_probabilities":
        return ClippedCrossEntropy(output)
    if form == "clamped_log":
        return ClampedLogBinaryCrossEntropy(reduction, output)
    if name == "cross_entropy":
        return CrossEntropy()
    if name == "mse":
        return MeanSquaredError(reduction, output)
    return BinaryCrossEntropy(reduction)
