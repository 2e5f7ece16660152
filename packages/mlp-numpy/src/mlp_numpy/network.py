"""The forward and backward passes, written out layer by layer.

Layer l (l = 1 … L) computes, for a batch of rows h_0 = x,

    z_l = h_{l−1} W_lᵀ + b_l        W_l: (out, in), b_l: (out,)
    h_l = g(z_l)                    hidden layers (g: activations.py)
    a   = f(z_L)                    the output layer (f: softmax, sigmoid or identity)

and the loss L(z_L, a, y) (losses.py). Backpropagation is the chain rule run from
the loss back to the input, with δ_l = ∂L/∂z_l:

    δ_L         = ∂L/∂z_L                     (losses.py gives it directly)
    ∂L/∂W_l     = δ_lᵀ h_{l−1}                (out, in), summed over the batch
    ∂L/∂b_l     = Σ_rows δ_l                  (out,)
    ∂L/∂h_{l−1} = δ_l W_l                     (batch, in)
    δ_{l−1}     = ∂L/∂h_{l−1} ⊙ g′(z_{l−1})   (g′ from the kept h_{l−1}, activations.py)

In the code, lists count layers from 0: layer l is index i = l − 1. Products are
`np.dot`: for the outer product of a batch of one row, NumPy's `@` (matmul) takes
about 10 × as long. A bias gradient is the product 1ᵀ δ_l, which NumPy computes 2 to 7 ×
faster than the sum δ_l.sum(axis=0) at batch 64 (benchmarks/README.md has both timings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from .activations import hidden_activation, output_activation
from .layer import Layer, check_layers
from .losses import make_loss
from .spec import Loss, Network


class Parameters:
    """All weights and biases in one flat array; `weights[i]` and `biases[i]` are views.

    One flat array lets an optimizer update the whole network in a few vectorized
    operations. The layers follow each other in order, each weight before its bias.
    `biases[i]` is None when the network has no biases.
    """

    def __init__(self, network: Network, dtype: np.dtype) -> None:
        self.network = network
        sizes = [out * inp + (out if network.bias else 0) for out, inp in network.shapes]
        self.flat = np.zeros(sum(sizes), dtype=dtype)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray | None] = []
        start = 0
        for out, inp in network.shapes:
            self.weights.append(self.flat[start : start + out * inp].reshape(out, inp))
            start += out * inp
            if network.bias:
                self.biases.append(self.flat[start : start + out])
                start += out
            else:
                self.biases.append(None)

    def layers(self) -> list[Layer]:
        """Copies of the parameters, layer by layer."""
        return [
            Layer(w.copy(), None if b is None else b.copy())
            for w, b in zip(self.weights, self.biases, strict=True)
        ]

    def assign(self, layers: list[Layer]) -> None:
        """Copy `layers` into this network's arrays (`check_layers` first)."""
        check_layers(self.network, layers)
        for (weight, bias), w, b in zip(layers, self.weights, self.biases, strict=True):
            w[...] = weight
            if b is not None:
                b[...] = bias


@dataclass
class Trace:
    """What the forward pass keeps for the backward pass, for one batch."""

    inputs: list[np.ndarray]  # each layer's input: h_0 = x, h_1, …, h_{L−1}
    z: np.ndarray  # z_L, the logits (batch, classes)
    a: np.ndarray  # a = f(z_L), the outputs (batch, classes)


class MLP:
    """A network's parameters, their gradients, and the passes that compute them."""

    def __init__(self, network: Network, loss: Loss, dtype: DTypeLike) -> None:
        self.network = network
        self.dtype = np.dtype(dtype)
        self.activation = hidden_activation(network)
        self.output = output_activation(network.output)
        self.loss = make_loss(loss, network)
        self.params = Parameters(network, self.dtype)  # W_l, b_l
        self.grads = Parameters(network, self.dtype)  # ∂L/∂W_l, ∂L/∂b_l, written by backward

    def forward(self, x: np.ndarray) -> Trace:
        """The forward pass on the batch x (rows are samples)."""
        weights, biases = self.params.weights, self.params.biases
        inputs = [x]
        for w, b in zip(weights[:-1], biases[:-1], strict=True):
            z = np.dot(inputs[-1], w.T)  # z_l = h_{l−1} W_lᵀ
            if b is not None:
                z += b  # z_l = h_{l−1} W_lᵀ + b_l
            inputs.append(self.activation.forward(z, out=z))  # h_l = g(z_l), in place
        z = np.dot(inputs[-1], weights[-1].T)  # z_L
        if biases[-1] is not None:
            z += biases[-1]
        a = self.output.forward(z, out=np.empty_like(z))  # a = f(z_L)
        return Trace(inputs, z, a)

    def loss_value(self, trace: Trace, y: np.ndarray) -> float:
        """The loss L(z_L, a, y) of the batch of `trace`, computed in its dtype."""
        return self.loss.value(trace.z, trace.a, y)

    def backward(self, trace: Trace, y: np.ndarray) -> None:
        """Write ∂L/∂W_l and ∂L/∂b_l of every layer into self.grads, for the batch of
        `trace` (from `forward`) and its targets y (`mlp_numpy.inputs.training_targets`)."""
        weights = self.params.weights
        grad_w, grad_b = self.grads.weights, self.grads.biases
        delta = self.loss.gradient(trace.z, trace.a, y)  # δ_L = ∂L/∂z_L
        ones = np.ones(len(delta), delta.dtype)
        for i in reversed(range(len(weights))):
            h_prev = trace.inputs[i]
            np.dot(delta.T, h_prev, out=grad_w[i])  # ∂L/∂W_l = δ_lᵀ h_{l−1}
            if grad_b[i] is not None:
                np.dot(ones, delta, out=grad_b[i])  # ∂L/∂b_l = Σ_rows δ_l = 1ᵀ δ_l
            if i > 0:
                delta = np.dot(delta, weights[i])  # ∂L/∂h_{l−1} = δ_l W_l
                self.activation.backward(h_prev, delta)  # δ_{l−1} = ∂L/∂h_{l−1} ⊙ g′

    def predict_proba(self, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Outputs a for every row of x, computed `chunk` rows at a time."""
        x = np.asarray(x, dtype=self.dtype)
        out = np.empty((len(x), self.network.num_classes), self.dtype)
        for start in range(0, len(x), chunk):
            out[start : start + chunk] = self.forward(x[start : start + chunk]).a
        return out
