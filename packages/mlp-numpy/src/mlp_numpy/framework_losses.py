"""The loss forms other frameworks' built-ins compute from the probabilities a = f(z)
instead of the logits z (docs/model-spec.md#loss-forms), each beside its gradient.

losses.py holds the reference's own forms, from the logits. These are the ones a spec
names with `loss.form`, so that the reference computes what a framework's built-in
computes and each framework is proven equal to the reference under its own forms
(`mlp_numpy.conventions`):

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

from .losses import BatchLoss, BinaryCrossEntropy
from .spec import Loss


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


class ClampedLogBinaryCrossEntropy(BinaryCrossEntropy):
    """Binary cross-entropy of the sigmoid outputs with each log clamped at −100, as
    PyTorch's `BCELoss` computes it, with PyTorch's gradient."""

    log_floor = -100.0
    denominator_floor = 1e-12  # aten's EPSILON in binary_cross_entropy_backward

    def __init__(self, reduction: str, output) -> None:
        super().__init__(reduction)
        self.output = output

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


def make_framework_loss(loss: Loss, output) -> BatchLoss:
    """The loss of `loss.form` "clipped_probabilities" or "clamped_log"; `output` is the
    output activation its gradient passes through."""
    if loss.form == "clipped_probabilities":
        return ClippedCrossEntropy(output)
    if loss.form == "clamped_log":
        return ClampedLogBinaryCrossEntropy(loss.reduction, output)
    raise ValueError(f"loss.form: {loss.form!r} is not a probability form")
