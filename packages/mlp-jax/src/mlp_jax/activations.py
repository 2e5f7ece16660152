"""The spec's activation functions as Flax's own `flax.nnx` functions.

Hidden layers apply g element-wise after each linear layer but the last:

    relu        g(z) = max(z, 0)                        nnx.relu
    leaky_relu  g(z) = z if z > 0 else s·z              nnx.leaky_relu(negative_slope=s),
                                                        s = network.leaky_slope
    sigmoid     g(z) = 1 / (1 + e^(−z))                 nnx.sigmoid
    tanh        g(z) = tanh z                           nnx.tanh

The output function f turns the logits z into the network's outputs a = f(z):

    softmax     a_k = e^(z_k) / Σ_j e^(z_j), per row    nnx.softmax (over the last axis)
    sigmoid     a = 1 / (1 + e^(−z))                    nnx.sigmoid
    identity    a = z                                   identity

JAX differentiates them (`nnx.value_and_grad`); the losses take the logits (see `losses`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
from flax import nnx

from mlp_numpy.spec import Network

Activation = Callable[[jax.Array], jax.Array]


def identity(z: jax.Array) -> jax.Array:
    """a = z."""
    return z


def hidden_activation(network: Network) -> Activation:
    """g, the hidden activation of `network` (with its `leaky_slope`)."""
    name = network.hidden
    if name == "relu":
        return nnx.relu
    if name == "leaky_relu":
        return functools.partial(nnx.leaky_relu, negative_slope=network.leaky_slope)
    if name == "sigmoid":
        return nnx.sigmoid
    if name == "tanh":
        return nnx.tanh
    raise ValueError(f"network.hidden: unknown activation {name!r}")


def output_activation(name: str) -> Activation:
    """f, the output function called `name` in the spec."""
    if name == "softmax":
        return nnx.softmax
    if name == "sigmoid":
        return nnx.sigmoid
    if name == "identity":
        return identity
    raise ValueError(f"network.output: unknown output {name!r}")
