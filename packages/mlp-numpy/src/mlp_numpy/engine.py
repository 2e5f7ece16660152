"""The NumPy engine: the training data and one network, stepped through batches.

`fit` (training.py) owns the epoch loop; an engine only runs the steps of one
epoch. One training step on the batch of rows x with one-hot targets y is

    a = forward(x)                 backprop.py
    loss = L(z, a, y)              losses.py
    grads = backward(x, y)         backprop.py
    w ← update(w, grads, lr)       optimizers.py
"""

from __future__ import annotations

import numpy as np

from .backprop import Backprop, Workspace
from .init import initial_layers
from .layer import Layer
from .optimizers import make_optimizer
from .spec import ModelSpec


def one_hot(labels: np.ndarray, classes: int, dtype: np.dtype) -> np.ndarray:
    """(N,) integer labels as (N, classes) rows of zeros with a one at the label."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels: expected a 1-D integer array, got {labels.dtype} {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"labels: values must be in [0, {classes}), got {labels.min()}..{labels.max()}"
        )
    targets = np.zeros((len(labels), classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1
    return targets


class NumpyEngine:
    """Implements `mlp_numpy.training.Engine` with NumPy on the CPU."""

    def __init__(
        self, spec: ModelSpec, x: np.ndarray, labels: np.ndarray, layers: list[Layer] | None = None
    ) -> None:
        network = spec.network
        self.dtype = np.dtype(spec.training.dtype)
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != network.layers[0]:
            raise ValueError(f"x: expected shape (N, {network.layers[0]}), got {x.shape}")
        if len(labels) != len(x):
            raise ValueError(f"labels: {len(labels)} labels for {len(x)} samples")
        self.x = np.ascontiguousarray(x, dtype=self.dtype)
        self.y = one_hot(labels, network.num_classes, self.dtype)
        self.net = Backprop(network, spec.loss, self.dtype)
        self.net.params.assign(initial_layers(spec) if layers is None else layers)
        self.optimizer = make_optimizer(spec.training.optimizer, self.net.params.flat)
        self._epoch_x = np.empty_like(self.x)  # this epoch's samples, in batch order
        self._epoch_y = np.empty_like(self.y)
        self._workspace: Workspace | None = None

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order`; the float64 loss of each step."""
        n = len(order)
        x = np.take(self.x, order, axis=0, out=self._epoch_x[:n])  # one gather per epoch
        y = np.take(self.y, order, axis=0, out=self._epoch_y[:n])
        ws = self._workspace_for(batch_size)
        net, params, grads, step = self.net, self.net.params, self.net.grads, self.optimizer.step
        losses = np.empty(-(-n // batch_size))
        # Overflow is not an error here: fit() reports a non-finite loss or weight as
        # divergence, naming the epoch and step.
        with np.errstate(over="ignore", invalid="ignore"):
            for i, start in enumerate(range(0, n, batch_size)):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                batch_ws = ws if len(xb) == batch_size else ws.first(len(xb))
                net.forward(xb, batch_ws)
                losses[i] = net.loss_value(batch_ws, yb)
                net.backward(xb, yb, batch_ws)
                step(params.flat, grads.flat, lr)
        return losses

    def _workspace_for(self, batch_size: int) -> Workspace:
        if self._workspace is None or self._workspace.rows != batch_size:
            self._workspace = Workspace(self.net.network, batch_size, self.dtype)
        return self._workspace

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.net.predict_proba(x)

    def get_layers(self) -> list[Layer]:
        return self.net.params.layers()

    def set_layers(self, layers: list[Layer]) -> None:
        self.net.params.assign(layers)
