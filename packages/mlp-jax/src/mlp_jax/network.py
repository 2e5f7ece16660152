"""The network of a spec as a Flax NNX module of `nnx.Linear` layers.

Layer l computes `h_l = g(h_{l-1} K_l + b_l)`, with g the hidden activation, except the
last, whose pre-activation z (the logits) is what `__call__` returns, as Flax modules
trained with Optax's losses do; `probabilities` applies the output function, a = f(z).
A Flax kernel `K_l` has the shape (in_features, out_features): it is the weight format's
`W_l` (out_features, in_features) transposed, so weights cross between the two as `W = Kᵀ`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mlp_numpy import Layer
from mlp_numpy.layer import check_layers
from mlp_numpy.spec import Network

from .activations import hidden_activation, output_activation


class MLP(nnx.Module):
    """A multilayer perceptron built from a spec's `Network`: every layer size, the hidden
    activation (with its `leaky_slope`), the output function and the bias setting.

    `rngs` draws the parameters with `nnx.Linear`'s own initializers (`lecun_normal`
    kernels, zero biases), in `param_dtype`; `precision` is the layers' matrix-product
    precision (None: JAX's default).
    """

    def __init__(
        self,
        network: Network,
        *,
        rngs: nnx.Rngs,
        param_dtype: jnp.dtype = jnp.float32,
        precision: jax.lax.Precision | None = None,
    ) -> None:
        self.network = network
        self.linears = nnx.List(
            nnx.Linear(
                n_in,
                n_out,
                use_bias=network.bias,
                param_dtype=param_dtype,
                precision=precision,
                rngs=rngs,
            )
            for n_out, n_in in network.shapes
        )
        self.activation = hidden_activation(network)
        self.output = output_activation(network.output)

    def __call__(self, x: jax.Array) -> jax.Array:
        """z, the logits: the last layer's pre-activation."""
        *hidden, last = self.linears
        for linear in hidden:
            x = self.activation(linear(x))
        return last(x)

    def probabilities(self, x: jax.Array) -> jax.Array:
        """a = f(z), the network's outputs (class probabilities for softmax)."""
        return self.output(self(x))


def module_layers(module: MLP) -> list[Layer]:
    """The parameters of `module` as NumPy `Layer`s in the weight-format orientation."""
    return [
        Layer(
            np.array(linear.kernel[...]).T.copy(),
            None if linear.bias is None else np.array(linear.bias[...]),
        )
        for linear in module.linears
    ]


def load_layers(module: MLP, layers: list[Layer]) -> None:
    """Copy NumPy `layers` into `module`'s parameters, keeping each one's dtype and device
    (`check_layers` first)."""
    check_layers(module.network, layers)
    for linear, layer in zip(module.linears, layers, strict=True):
        linear.kernel[...] = _like(linear.kernel[...], np.asarray(layer.weight).T)
        if linear.bias is not None:
            linear.bias[...] = _like(linear.bias[...], layer.bias)


def _like(current: jax.Array, values: np.ndarray | None) -> jax.Array:
    """`values` as an array of `current`'s dtype, on its device."""
    return jax.device_put(np.asarray(values, dtype=current.dtype), current.sharding)


@nnx.jit
def probabilities(module: MLP, x: jax.Array) -> jax.Array:
    """`module.probabilities(x)`, compiled (once per input shape)."""
    return module.probabilities(x)
