"""Activations, each beside its derivative.

Hidden activations `g` work in place on a (batch, units) array. Their derivative is
written in terms of the activation's *output* `h = g(z)`, so the backward pass needs
only the activations kept from the forward pass:

    sigmoid     h = σ(z) = 1 / (1 + e^(−z))      g′ = h (1 − h)
    relu        h = max(z, 0)                     g′ = 1 where h > 0, else 0
    tanh        h = tanh z                        g′ = 1 − h²
    leaky_relu  h = z if z > 0 else s·z           g′ = 1 where h > 0, else s

`backward(h, delta)` multiplies the gradient `delta = ∂L/∂h` by g′ in place, turning
it into ∂L/∂z.

Output activations map logits `z` to outputs `a`. Their `backward(a, grad)` is the
vector-Jacobian product ∂L/∂z = (∂a/∂z)ᵀ ∂L/∂a, needed only by the mse loss; the
cross-entropy and bce losses give ∂L/∂z directly (see losses.py):

    softmax   a_k = e^(z_k) / Σ_j e^(z_j)    ∂L/∂z = a ⊙ (g − Σ_k g_k a_k)
    sigmoid   a = σ(z)                        ∂L/∂z = g ⊙ a (1 − a)
    identity  a = z                           ∂L/∂z = g
"""

from __future__ import annotations

import numpy as np

from .spec import Network


def sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)) into `out`, without overflow: e^(−|z|) never exceeds 1.

    For z ≥ 0 it is 1 / (1 + e^(−z)); for z < 0 the same value is e^z / (1 + e^z).
    """
    negative = z < 0
    np.abs(z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)  # e^(−|z|) in (0, 1]
    numerator = np.where(negative, out, 1)
    out += 1
    np.divide(numerator, out, out=out)
    return out


class Sigmoid:
    name = "sigmoid"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return sigmoid(z, out)

    def backward(self, h: np.ndarray, delta: np.ndarray) -> None:
        """delta ← delta · h (1 − h)."""
        delta *= h
        delta *= 1 - h


class ReLU:
    name = "relu"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0, out=out)

    def backward(self, h: np.ndarray, delta: np.ndarray) -> None:
        """delta ← delta · [h > 0]."""
        delta *= h > 0


class Tanh:
    name = "tanh"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=out)

    def backward(self, h: np.ndarray, delta: np.ndarray) -> None:
        """delta ← delta · (1 − h²)."""
        delta *= 1 - h * h


class LeakyReLU:
    name = "leaky_relu"

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """max(z, s·z), which is z for z > 0 and s·z otherwise because 0 ≤ s < 1."""
        return np.maximum(z, self.slope * z, out=out)

    def backward(self, h: np.ndarray, delta: np.ndarray) -> None:
        """delta ← delta · (1 if h > 0 else s)."""
        delta *= np.where(h > 0, 1, self.slope).astype(delta.dtype, copy=False)


def hidden_activation(network: Network):
    """g, the hidden activation of `network` (with its `leaky_slope`)."""
    if network.hidden == "leaky_relu":
        return LeakyReLU(network.leaky_slope)
    return {"sigmoid": Sigmoid, "relu": ReLU, "tanh": Tanh}[network.hidden]()


class Softmax:
    name = "softmax"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """e^(z − max z) / Σ e^(z − max z) row by row: the shift keeps exp ≤ 1."""
        np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def backward(self, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """∂L/∂z = a ⊙ (g − Σ_k g_k a_k), the softmax Jacobian applied to g = ∂L/∂a."""
        return a * (grad - (grad * a).sum(axis=1, keepdims=True))


class SigmoidOutput:
    name = "sigmoid"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return sigmoid(z, out)

    def backward(self, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """∂L/∂z = g ⊙ a (1 − a)."""
        return grad * a * (1 - a)


class Identity:
    name = "identity"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.copyto(out, z)
        return out

    def backward(self, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """∂L/∂z = g."""
        return grad


def output_activation(name: str):
    """f, the output activation called `name` in the spec."""
    return {"softmax": Softmax, "sigmoid": SigmoidOutput, "identity": Identity}[name]()
