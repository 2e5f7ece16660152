"""The NumPy engine: the training data and one network, stepped through batches.

`fit` (training.py) owns the epoch loop; an engine only runs the steps of one
epoch. One training step on the batch of rows x with one-hot targets y is

    z, a = forward(x)              backprop.py (activations.py)
    grads = backward(x, y)         backprop.py (losses.py gives ∂L/∂z; for plain
                                   SGD it gives η ∂L/∂z, so the update is one pass)
    w ← update(w, grads, lr)       optimizers.py (plain SGD updates the first layer
                                   from its stack of updates: deferred.py)

and each step's loss L(z, a, y) (losses.py) is computed once per epoch, vectorized
over the kept z and a of every step, instead of in a dozen small calls per step.
"""

from __future__ import annotations

import numpy as np

from .backprop import Backprop, Workspace
from .deferred import DeferredFirstLayer
from .init import initial_layers
from .inputs import check_inputs, check_labels, one_hot
from .layer import Layer
from .optimizers import make_optimizer
from .spec import ModelSpec


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
        x = check_inputs(x, network.layers[0])
        labels = check_labels(labels, len(x), network.num_classes)
        self.x = np.ascontiguousarray(x, dtype=self.dtype)
        self.y = one_hot(labels, network.num_classes, self.dtype)
        self.net = Backprop(network, spec.loss, self.dtype)
        self.net.params.assign(initial_layers(spec) if layers is None else layers)
        self.optimizer = make_optimizer(spec.training.optimizer, self.net.params.flat)
        self._epoch_y = np.empty_like(self.y)  # this epoch's targets, in batch order
        self._epoch_z = np.empty_like(self.y)
        self._epoch_a = np.empty_like(self.y)
        self._workspace: Workspace | None = None
        self._deferred: DeferredFirstLayer | None = None

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order`; the float64 loss of each step."""
        n = len(order)
        y = np.take(self.y, order, axis=0, out=self._epoch_y[:n], mode="clip")
        z, a = self._epoch_z[:n], self._epoch_a[:n]  # each step's logits and outputs
        deferred = self._deferred_for(batch_size)
        # Without a stack of deferred updates, each batch is gathered into the workspace.
        ws = self._workspace_for(batch_size, inputs=deferred is None)
        net, params, grads, step = self.net, self.net.params, self.net.grads, self.optimizer.step
        scale = self.optimizer.gradient_scale(lr)  # plain SGD: backprop gives η ∂L/∂w
        # With deferred first-layer updates the optimizer steps every other parameter:
        # W₁ comes first in the flat arrays.
        skip = 0 if deferred is None else params.weights[0].size
        weights, gradients = params.flat[skip:], grads.flat[skip:]
        starts = range(0, n, batch_size)
        # Overflow is not an error here: fit() reports a non-finite loss or weight as
        # divergence, naming the epoch and step.
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                for start in starts:
                    stop = min(start + batch_size, n)
                    batch_ws = ws if stop - start == batch_size else ws.first(stop - start)
                    # The batch's rows, gathered into a preallocated (and cache-resident)
                    # array; mode="clip" skips a bounds-checked copy: `order` is valid.
                    if deferred is None:
                        rows = batch_ws.x
                    else:  # plain SGD: the batch's inputs and δ₁ go straight into the stack
                        rows, batch_ws.delta[0] = deferred.next_rows(stop - start)
                    xb = self.x.take(order[start:stop], axis=0, out=rows, mode="clip")
                    yb = y[start:stop]
                    # The step's logits and outputs go straight into the epoch's arrays.
                    batch_ws.z, batch_ws.a = z[start:stop], a[start:stop]
                    net.forward(xb, batch_ws, deferred)
                    net.backward(xb, yb, batch_ws, scale, deferred)
                    step(weights, gradients, lr)
            finally:
                if deferred is not None:
                    deferred.apply()  # W₁ catches up, even after an interrupted step
            # Each step's loss, from the logits and outputs it saw before its update:
            # the per-sample terms summed within each batch, over the loss's divisor.
            terms = net.loss.sample_terms(z, a, y)
            sizes = np.diff([*starts, n])
            return np.add.reduceat(terms, starts) / net.loss.divisor(sizes, y.shape[1])

    def _workspace_for(self, batch_size: int, inputs: bool) -> Workspace:
        if self._workspace is None or self._workspace.rows != batch_size:
            self._workspace = Workspace(self.net.network, batch_size, self.dtype, inputs)
        return self._workspace

    def _deferred_for(self, batch_size: int) -> DeferredFirstLayer | None:
        """Plain SGD's stack of first-layer updates (deferred.py); None for the others."""
        if not self.optimizer.plain:
            return None
        if self._deferred is None or self._deferred.batch_size != batch_size:
            self._deferred = DeferredFirstLayer(self.net.params.weights[0], batch_size)
        return self._deferred

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.net.predict_proba(x)

    def get_layers(self) -> list[Layer]:
        return self.net.params.layers()

    def set_layers(self, layers: list[Layer]) -> None:
        self.net.params.assign(layers)
