"""The NumPy engine: the training data and one network, stepped through batches.

`fit` (training.py) owns the epoch loop; an engine runs the steps of one epoch. One
training step (`NumpyEngine.step`) on a batch of rows x with targets y (one-hot rows,
0/1 labels or values: `mlp_numpy.inputs.training_targets`) is

    trace = forward(x)               network.py: z_l = h_{l−1} W_lᵀ + b_l, h_l = g(z_l),
                                     a = f(z_L) (activations.py)
    loss = L(z_L, a, y)              losses.py, in the training dtype, before the update
    grads = backward(trace, y)       network.py: ∂L/∂W_l and ∂L/∂b_l of every layer,
                                     from δ_L = ∂L/∂z_L (losses.py)
    optimizer.step(w, grads, η)      optimizers.py: every parameter, in one flat array

and nothing else; `train_batches` runs one such step per batch and returns their losses.
The spec's conventions (`mlp_numpy.conventions`) choose which form of the loss and the
optimizer those lines compute: "framework" is the plain form of losses.py and
optimizers.py, the reference's own; a value naming another framework's form takes it from
framework_losses.py or framework_optimizers.py.
"""

from __future__ import annotations

import numpy as np

from .conventions import resolve
from .devices import check_device
from .initializers import initial_layers
from .inputs import check_targets, check_training_inputs, training_targets
from .layer import Layer
from .network import MLP
from .optimizers import make_optimizer
from .spec import ModelSpec


class NumpyEngine:
    """Implements `mlp_numpy.training.Engine` with NumPy on the CPU."""

    def __init__(
        self, spec: ModelSpec, x: np.ndarray, labels: np.ndarray, layers: list[Layer] | None = None
    ) -> None:
        spec = resolve(spec, "numpy")
        network = spec.network
        self.dtype = np.dtype(spec.training.dtype)
        x = check_training_inputs(x, network.layers[0])
        labels = check_targets(labels, len(x), network)
        self.x = np.ascontiguousarray(x, dtype=self.dtype)
        self.y = training_targets(labels, network, self.dtype)  # (N, K), what a is compared with
        self.net = MLP(network, spec.loss, self.dtype)
        self.net.params.assign(initial_layers(spec) if layers is None else layers)
        self.optimizer = make_optimizer(spec.training.optimizer, self.net.params.flat)

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One step per consecutive slice of `order`; the float64 loss of each step."""
        starts = range(0, len(order), batch_size)
        # Overflow is not an error here: fit() reports a non-finite loss or weight as
        # divergence, naming the epoch and step.
        with np.errstate(over="ignore", invalid="ignore"):
            losses = [self.step(order[start : start + batch_size], lr) for start in starts]
        return np.array(losses, dtype=np.float64)

    def step(self, batch: np.ndarray, lr: float) -> float:
        """One training step on the samples `batch` (indices into the training data) at
        learning rate `lr`; returns the batch's loss before the update."""
        x, y = self.x.take(batch, axis=0), self.y.take(batch, axis=0)  # the batch's rows
        trace = self.net.forward(x)  # the forward pass
        loss = self.net.loss_value(trace, y)  # the loss
        self.net.backward(trace, y)  # the backward pass: self.net.grads ← ∂L/∂W, ∂L/∂b
        self.optimizer.step(self.net.params.flat, self.net.grads.flat, lr)  # the update
        return loss

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.net.predict_proba(x)

    def get_layers(self) -> list[Layer]:
        return self.net.params.layers()

    def set_layers(self, layers: list[Layer]) -> None:
        self.net.params.assign(layers)


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str = "auto",
) -> NumpyEngine:
    """An engine holding the training data (cast to the spec's dtype) and the network,
    starting from `layers` or, when None, from `initializers.initial_layers(spec)`."""
    check_device(device)
    return NumpyEngine(spec, x, labels, layers)
