"""Finite-difference gradient check: is backprop's gradient the derivative of the loss?

For every parameter w_i, the central difference

    ∂L/∂w_i ≈ (L(w + ε e_i) − L(w − ε e_i)) / 2ε

has error O(ε²). The check compares it with `MLP.backward`, tensor by tensor,
by the relative error ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖), which is
about 1e-9 or smaller in float64 when backprop is right and near 1 when it is wrong.
It costs two forward passes per parameter: use small networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .inputs import training_targets
from .layer import Layer
from .network import MLP
from .spec import Loss, Network


@dataclass(frozen=True)
class GradientCheck:
    """Relative error of each tensor's gradient, keyed like the weight format."""

    errors: dict[str, float]

    @property
    def max_error(self) -> float:
        return max(self.errors.values())


def check_gradients(
    network: Network,
    loss: Loss,
    layers: list[Layer],
    x: np.ndarray,
    labels: np.ndarray,
    *,
    eps: float = 1e-6,
) -> GradientCheck:
    """Compare backprop's gradient of `loss` on (x, labels) with central differences
    (float64); `labels` are what `network.task` trains on (`mlp_numpy.inputs`)."""
    float64 = np.dtype(np.float64)
    net = MLP(network, loss, float64)
    net.params.assign(layers)
    x = np.asarray(x, dtype=np.float64)
    y = training_targets(labels, network, np.float64)

    def loss_now() -> float:
        return net.loss_value(net.forward(x), y)

    net.backward(net.forward(x), y)
    errors = {}
    tensors: list[tuple[str, list, list]] = [("weight", net.params.weights, net.grads.weights)]
    if network.bias:
        tensors.append(("bias", net.params.biases, net.grads.biases))
    for part, params, grads in tensors:
        for i, (w, analytic) in enumerate(zip(params, grads, strict=True)):
            numeric = np.empty_like(w)
            for index in np.ndindex(w.shape):
                kept = w[index]
                w[index] = kept + eps
                above = loss_now()
                w[index] = kept - eps
                below = loss_now()
                w[index] = kept
                numeric[index] = (above - below) / (2 * eps)
            scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
            difference = np.linalg.norm(analytic - numeric)
            errors[f"layers.{i}.{part}"] = float(difference / scale) if scale else 0.0
    return GradientCheck(errors)
