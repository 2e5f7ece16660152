"""Plain SGD's first-layer updates, deferred: kept as a low-rank sum, applied every few rows.

A plain SGD step on a batch of b rows changes the first layer's weights by

    W₁ ← W₁ − Dᵀ X          D = η δ₁ (b, out),  X = the batch's inputs (b, in),

a matrix of rank at most b. For small batches, writing that (out, in) matrix and then
subtracting it is most of a step: at batch 1, a 784-128 layer writes and rereads its
100 352 weights to change them by one outer product. But backpropagation never reads W₁
(there is no δ₀): only the forward pass does, and it can apply the pending updates to
its product instead. After k steps, with their D and X stacked as D_k and X_k,

    W₁ = W − D_kᵀ X_k,   so   x W₁ᵀ = x Wᵀ − (x X_kᵀ) D_k,

two products with k·b columns instead of two passes over W₁. When the stack is full, and
at the end of each epoch, one product applies it all: W ← W − D_kᵀ X_k, subtracted as it
is computed (blas.SubtractProduct), in one pass over W. A batch of STACK_ROWS rows or more
fills the stack alone, so it is applied before the next forward pass and there is nothing
to correct: the update is then the plain one, without a temporary (out, in) gradient. In
exact arithmetic this is the same training; in floating point the same terms are summed
in another order (as with any two BLAS libraries), so weights agree to rounding.
"""

from __future__ import annotations

import numpy as np

from .blas import SubtractProduct

STACK_ROWS = 32
"""Rows of X_k kept before they are applied. Each pending row costs the forward pass
2·(in + out) multiply-adds per input row; applying the stack costs one product, which
is efficient only with enough rows: 32 balances the two for 784-128 at batch 1."""


class DeferredFirstLayer:
    """The pending updates D_k, X_k of the first layer's weights `weight` (a view)."""

    def __init__(self, weight: np.ndarray, batch_size: int) -> None:
        out_features, in_features = weight.shape
        rows = max(1, STACK_ROWS // batch_size) * batch_size
        self.weight = weight
        self.batch_size = batch_size
        self.inputs = np.empty((rows, in_features), weight.dtype)  # X_k
        self.deltas = np.empty((rows, out_features), weight.dtype)  # D_k
        self.pending = 0  # the rows of X_k and D_k in use
        most_pending = rows - batch_size  # when a forward pass runs: none if one batch fills it
        self._products = np.empty(batch_size * most_pending, weight.dtype)  # x X_kᵀ
        self._correction = np.empty((batch_size if most_pending else 0, out_features), weight.dtype)
        self._apply = SubtractProduct(weight, self.deltas, self.inputs)  # W ← W − D_kᵀ X_k

    def next_rows(self, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Where the next batch's inputs and its η δ₁ go: the next rows of X_k and D_k
        (backward computes δ₁ there, so stacking it costs nothing)."""
        if self.pending + rows > len(self.inputs):
            self.apply()
        stop = self.pending + rows
        return self.inputs[self.pending : stop], self.deltas[self.pending : stop]

    def correct(self, x: np.ndarray, z: np.ndarray) -> None:
        """z ← z − (x X_kᵀ) D_k, turning z = x Wᵀ into x W₁ᵀ."""
        k = self.pending
        if k:
            x_inputs = self._products[: len(x) * k].reshape(len(x), k)
            np.dot(x, self.inputs[:k].T, out=x_inputs)
            correction = self._correction[: len(x)]
            np.dot(x_inputs, self.deltas[:k], out=correction)
            z -= correction

    def record(self, delta: np.ndarray) -> None:
        """Stack the batch placed by `next_rows`, whose η δ₁ `delta` was computed in D_k."""
        if delta.base is not self.deltas:
            raise ValueError("delta: η δ₁ must be computed in the rows of D_k from next_rows")
        self.pending += len(delta)

    def apply(self) -> None:
        """W ← W − D_kᵀ X_k, emptying the stack."""
        if self.pending:
            self._apply(self.pending)
            self.pending = 0
