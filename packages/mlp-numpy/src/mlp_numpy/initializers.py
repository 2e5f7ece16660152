"""Initial weights (docs/model-spec.md#initialization).

Every backend starts from the arrays drawn here, so the same seed gives the same
network everywhere. Draws happen in float64 from `default_rng([seed, 0])`, layer by
layer, weight before bias, then are cast to the training dtype.
"""

from __future__ import annotations

import math

import numpy as np

from .layer import Layer
from .spec import Init, ModelSpec

# The standard deviation of N(0, 1) truncated to (−2, 2): dividing by it gives the truncated
# draw the standard deviation asked for (jax.nn.initializers.variance_scaling's constant).
TRUNCATED_STD = 0.87962566103423978


def truncated_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """N(0, 1) truncated to (−2, 2): standard normal draws, each one outside redrawn until
    it falls inside (about 4.6 % of draws are redrawn once)."""
    x = rng.standard_normal(shape)
    outside = np.abs(x) >= 2
    while outside.any():
        x[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(x) >= 2
    return x


def draw(init: Init, rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int):
    """One array of `shape` from the scheme's distribution.

    normal          N(0, scale²)
    uniform         U(low, high)
    xavier_normal   N(0, 2 / (fan_in + fan_out))
    xavier_uniform  U(−b, b),  b = √(6 / (fan_in + fan_out))
    he_normal       N(0, 2 / fan_in)
    he_uniform      U(−b, b),  b = √(6 / fan_in)
    fan_in_uniform  U(−b, b),  b = 1 / √fan_in   (PyTorch nn.Linear's weights and biases)
    lecun_normal    σ x / 0.8796…,  σ = 1 / √fan_in,  x ~ N(0, 1) truncated to (−2, 2)
                    (Flax nnx.Linear's weights: its standard deviation is σ)
    """
    scheme = init.scheme
    if scheme == "normal":
        return rng.normal(0.0, init.scale, shape)
    if scheme == "uniform":
        return rng.uniform(init.low, init.high, shape)
    if scheme == "xavier_normal":
        return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), shape)
    if scheme == "xavier_uniform":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape)
    if scheme == "he_normal":
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), shape)
    if scheme == "he_uniform":
        bound = math.sqrt(6.0 / fan_in)
        return rng.uniform(-bound, bound, shape)
    if scheme == "fan_in_uniform":
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape)
    if scheme == "lecun_normal":
        return truncated_normal(rng, shape) * (math.sqrt(1.0 / fan_in) / TRUNCATED_STD)
    raise ValueError(f"init.scheme: {scheme!r} does not draw random weights")


def initial_layers(spec: ModelSpec) -> list[Layer]:
    """The initial parameters of `spec`'s network, in `spec.training.dtype`."""
    network, init = spec.network, spec.init
    dtype = np.dtype(spec.training.dtype)
    if init.scheme == "file":
        from .weights import load_weights

        assert init.path is not None  # the spec requires a path for scheme "file"
        layers = load_weights(init.path, expect=network).layers
        return [Layer(w.astype(dtype), None if b is None else b.astype(dtype)) for w, b in layers]
    rng = np.random.default_rng([spec.training.seed, 0])
    layers = []
    for fan_out, fan_in in network.shapes:
        weight = draw(init, rng, (fan_out, fan_in), fan_in, fan_out)
        bias = None
        if network.bias:
            if init.bias == "like_weights":
                bias = draw(init, rng, (fan_out,), fan_in, fan_out)
            else:
                bias = np.zeros(fan_out)
        layers.append(Layer(weight.astype(dtype), None if bias is None else bias.astype(dtype)))
    return layers
