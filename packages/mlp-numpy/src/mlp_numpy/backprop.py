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

Each matrix product writes into a preallocated array (`out=`), so a training step
allocates almost nothing and its time is spent in the products themselves. In the
code, lists count layers from 0: layer l is index i = l − 1.
"""

from __future__ import annotations

import numpy as np

from .activations import hidden_activation, output_activation
from .deferred import DeferredFirstLayer
from .layer import Layer, check_layers
from .losses import make_loss
from .spec import Loss, Network


class Parameters:
    """All weights and biases in one flat array; `weights[l]` and `biases[l]` are views.

    One flat array lets an optimizer update the whole network in a few vectorized
    operations. The layers follow each other in order, each weight before its bias,
    so the first layer's weights are the start of the flat array. `biases[l]` is None
    when the network has no biases.
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


class Workspace:
    """Preallocated arrays for a batch of `rows` samples: every h_l, z_L, a and δ_l, a
    column of ones (sums over the batch are products with it, which NumPy computes
    faster than a reduction along the batch axis) and, with `inputs`, x: an array to
    gather the batch's rows into."""

    def __init__(self, network: Network, rows: int, dtype: np.dtype, inputs: bool = False) -> None:
        self.rows = rows
        self.ones = np.ones(rows, dtype)
        self.x = np.empty((rows, network.layers[0]), dtype) if inputs else None
        self.h = [np.empty((rows, n), dtype) for n in network.layers[1:-1]]
        self.z = np.empty((rows, network.num_classes), dtype)
        self.a = np.empty((rows, network.num_classes), dtype)
        self.delta = [np.empty((rows, n), dtype) for n in network.layers[1:]]

    def first(self, rows: int) -> Workspace:
        """A workspace for a shorter batch: views of the first `rows` rows of each array."""
        view = object.__new__(Workspace)
        view.rows = rows
        view.ones = self.ones[:rows]
        view.x = None if self.x is None else self.x[:rows]
        view.h = [h[:rows] for h in self.h]
        view.z, view.a = self.z[:rows], self.a[:rows]
        view.delta = [d[:rows] for d in self.delta]
        return view


class Backprop:
    """A network's parameters, their gradients, and the passes that compute them."""

    def __init__(self, network: Network, loss: Loss, dtype: str | np.dtype) -> None:
        self.network = network
        self.dtype = np.dtype(dtype)
        self.activation = hidden_activation(network.hidden, network.leaky_slope)
        self.output = output_activation(network.output)
        self.loss = make_loss(loss.name, loss.reduction, self.output)
        self.params = Parameters(network, self.dtype)
        self.grads = Parameters(network, self.dtype)

    def forward(
        self, x: np.ndarray, ws: Workspace, deferred: DeferredFirstLayer | None = None
    ) -> np.ndarray:
        """Fill ws.h, ws.z and ws.a for the batch x; return the outputs a. With `deferred`,
        the first layer's weights are W₁ = W − D_kᵀ X_k (deferred.py)."""
        weights, biases = self.params.weights, self.params.biases
        last = len(weights) - 1
        h = x
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            z = ws.z if i == last else ws.h[i]
            np.dot(h, w.T, out=z)  # z = h Wᵀ
            if i == 0 and deferred is not None:
                deferred.correct(x, z)  # z = x W₁ᵀ, with the pending updates
            if b is not None:
                z += b  # z = h Wᵀ + b
            if i < last:
                self.activation.forward(z, out=z)  # h = g(z), in place
            h = z
        return self.output.forward(ws.z, out=ws.a)  # a = f(z_L)

    def backward(
        self,
        x: np.ndarray,
        y: np.ndarray,
        ws: Workspace,
        scale: float = 1.0,
        deferred: DeferredFirstLayer | None = None,
    ) -> None:
        """Fill self.grads with c·∂L/∂W_l and c·∂L/∂b_l (c = `scale`), after `forward`
        on the same x. Every line below is linear in δ_L, so starting from c·δ_L
        scales every gradient by c at no cost. With `deferred`, c·δ₁ is stacked there
        instead of forming c·∂L/∂W₁ = c·δ₁ᵀ x: ws.delta[0] must be its rows of the stack
        (deferred.py)."""
        weights = self.params.weights
        grad_w, grad_b = self.grads.weights, self.grads.biases
        delta = ws.delta[-1]
        self.loss.gradient(ws.z, ws.a, y, out=delta, scale=scale)  # δ_L = c·∂L/∂z_L
        for i in range(len(weights) - 1, -1, -1):
            h_prev = x if i == 0 else ws.h[i - 1]
            if i == 0 and deferred is not None:
                deferred.record(delta)  # ∂L/∂W₁ = δᵀ x, applied later (deferred.py)
            else:
                np.dot(delta.T, h_prev, out=grad_w[i])  # ∂L/∂W = δᵀ h_{l−1}
            if grad_b[i] is not None:
                np.dot(ws.ones, delta, out=grad_b[i])  # ∂L/∂b = Σ_rows δ = 1ᵀ δ
            if i > 0:
                np.dot(delta, weights[i], out=ws.delta[i - 1])  # ∂L/∂h_{l−1} = δ W
                delta = ws.delta[i - 1]
                self.activation.backward(h_prev, delta)  # δ_{l−1} = ∂L/∂h_{l−1} ⊙ g′

    def loss_value(self, ws: Workspace, y: np.ndarray) -> float:
        """The loss of the batch last passed to `forward`."""
        return self.loss.value(ws.z, ws.a, y)

    def predict_proba(self, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Outputs a for every row of x, computed `chunk` rows at a time."""
        x = np.asarray(x, dtype=self.dtype)
        ws = Workspace(self.network, min(chunk, len(x)), self.dtype)
        out = np.empty((len(x), self.network.num_classes), self.dtype)
        for start in range(0, len(x), chunk):
            rows = x[start : start + chunk]
            view = ws if len(rows) == ws.rows else ws.first(len(rows))
            out[start : start + len(rows)] = self.forward(rows, view)
        return out
