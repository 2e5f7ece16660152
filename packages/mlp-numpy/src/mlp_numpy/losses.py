"""Losses, each beside its gradient with respect to the logits z (docs/model-spec.md#losses).

`z` are the output layer's pre-activations, `a = f(z)` the network's outputs, `y` the
one-hot targets, all of shape (N, K). `sample_terms` gives each sample's share of the
loss, `value` the batch loss (their sum over `divisor`), and `gradient` writes
c·∂L/∂z into `out` (c = `scale`, 1 unless a caller wants the gradient pre-multiplied,
which costs nothing here), which is where backpropagation starts.

    cross_entropy  L = (1/N) Σ_n [logsumexp(z_n) − Σ_k y_nk z_nk]      ∂L/∂z = (a − y) / N
    mse            L = (1/D) Σ (a − y)²                                ∂L/∂a = 2 (a − y) / D
    bce            L = (1/D) Σ [softplus(z) − y z]                     ∂L/∂z = (a − y) / D

D is the number of terms averaged over: N·K for reduction "mean" (as PyTorch's
MSELoss and BCELoss), N for "sum_outputs" (sum over outputs, mean over samples).
Cross-entropy always divides by N. mse passes ∂L/∂a through the output activation's
Jacobian; cross-entropy (with softmax) and bce (with sigmoid) use the fused forms
above, which never divide by a probability.
"""

from __future__ import annotations

import numpy as np


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max(z, 0) + log1p(e^(−|z|)), finite for every finite z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class _Loss:
    """The batch loss is the sum of per-sample terms divided by `divisor(N, K)`."""

    def divisor(self, n, k: int):
        return n

    def sample_terms(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each sample's term of the sum, in float64 (every loss defines it)."""
        raise NotImplementedError

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
        """The loss of one batch, in float64."""
        return float(self.sample_terms(z, a, y).sum() / self.divisor(*z.shape))


class CrossEntropy(_Loss):
    """Cross-entropy of softmax outputs, from the logits."""

    name = "cross_entropy"

    def sample_terms(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """logsumexp(z_n) − z_n·y_n per sample: −log softmax(z_n)_label, computed stably.

        With m_n = max_k z_nk this is log Σ_k e^(z_nk − m_n) − (z_n − m_n)·y_n (m_n
        cancels as Σ_k y_nk = 1), so one shifted copy of z serves both terms. It runs over
        a whole epoch, on a (K, N) copy of z: NumPy reduces over the K outputs several
        times faster down columns (vectorized across samples) than along short rows.
        """
        z = z.T.astype(np.float64, order="C")  # (K, N)
        z -= z.max(axis=0)
        label_term = np.einsum("kn,nk->n", z, y)
        np.exp(z, out=z)
        return np.log(np.ones(len(z)) @ z) - label_term

    def gradient(
        self, z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray, scale: float = 1.0
    ) -> None:
        """∂L/∂z = (softmax(z) − y) / N, times `scale`."""
        np.subtract(a, y, out=out)
        out *= scale / self.divisor(*z.shape)


class MeanSquaredError(_Loss):
    """Squared error of the outputs a, averaged over N·K ("mean") or N ("sum_outputs")."""

    name = "mse"

    def __init__(self, reduction: str, output) -> None:
        self.reduction = reduction
        self.output = output

    def divisor(self, n, k: int):
        return n * k if self.reduction == "mean" else n

    def sample_terms(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Σ_k (a_nk − y_nk)² per sample."""
        error = a.astype(np.float64) - y
        return (error * error).sum(axis=1)

    def gradient(
        self, z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray, scale: float = 1.0
    ) -> None:
        """∂L/∂a = 2 (a − y) / D (times `scale`), then ∂L/∂z through the output activation."""
        grad_a = (a - y) * (2 * scale / self.divisor(*z.shape))
        out[...] = self.output.backward(a, grad_a)


class BinaryCrossEntropy(_Loss):
    """Binary cross-entropy of sigmoid outputs, from the logits."""

    name = "bce"

    def __init__(self, reduction: str) -> None:
        self.reduction = reduction

    def divisor(self, n, k: int):
        return n * k if self.reduction == "mean" else n

    def sample_terms(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Σ_k [softplus(z) − y z] per sample: −Σ_k [y log σ(z) + (1 − y) log(1 − σ(z))]."""
        z = z.astype(np.float64)
        return (softplus(z) - y * z).sum(axis=1)

    def gradient(
        self, z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray, scale: float = 1.0
    ) -> None:
        """∂L/∂z = (σ(z) − y) / D, times `scale`."""
        np.subtract(a, y, out=out)
        out *= scale / self.divisor(*z.shape)


def make_loss(name: str, reduction: str, output):
    """The loss called `name` in the spec; `output` is the output activation (for mse)."""
    if name == "cross_entropy":
        return CrossEntropy()
    if name == "mse":
        return MeanSquaredError(reduction, output)
    return BinaryCrossEntropy(reduction)
