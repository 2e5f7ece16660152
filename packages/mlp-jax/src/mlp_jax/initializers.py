"""Initial weights drawn by Flax itself, for `init.draw = "framework"`
(docs/model-spec.md#initialization).

A Flax tutorial builds its module with `nnx.Rngs(seed)`: each `nnx.Linear`, in layer
order, draws its kernel and then its bias from the `params` stream of those keys, with
its `kernel_init` and `bias_init`. `framework_layers` builds the same `nnx.Linear` layers
with the initializers of the spec's scheme, from `jax.nn.initializers` (which Flax
re-exports as `nnx.initializers`), on kernels of shape (fan_in, fan_out):

    lecun_normal     lecun_normal(): nnx.Linear's own default, σ x / 0.8796…,
                     σ = √(1 / fan_in), x ~ N(0, 1) truncated to (−2, 2)
    xavier_uniform   glorot_uniform(): U(−b, b), b = √(6 / (fan_in + fan_out))
    he_uniform       he_uniform(): U(−b, b), b = √(6 / fan_in)
    xavier_normal    variance_scaling(1, "fan_avg", "normal"): N(0, 2 / (fan_in + fan_out))
    he_normal        variance_scaling(2, "fan_in", "normal"): N(0, 2 / fan_in)
    fan_in_uniform   variance_scaling(1/3, "fan_in", "uniform"): U(−b, b), b = 1/√fan_in

(JAX's glorot_normal and he_normal draw truncated normals, not the spec's normal, hence
`variance_scaling(..., "normal")` for those two.) With `init.bias = "zeros"` the bias is
`zeros_init()`, nnx.Linear's default; `fan_in_uniform`'s `"like_weights"` bias (PyTorch's
nn.Linear) is `jax.random.uniform` on (−1/√fan_in, 1/√fan_in). Other weights-like biases
have no JAX initializer and are an error naming the field.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mlp_numpy import Layer
from mlp_numpy.spec import ModelSpec, SpecError

KERNEL_INITIALIZERS = {
    "lecun_normal": nnx.initializers.lecun_normal(),
    "xavier_uniform": nnx.initializers.glorot_uniform(),
    "he_uniform": nnx.initializers.he_uniform(),
    "xavier_normal": nnx.initializers.variance_scaling(1.0, "fan_avg", "normal"),
    "he_normal": nnx.initializers.variance_scaling(2.0, "fan_in", "normal"),
    "fan_in_uniform": nnx.initializers.variance_scaling(1 / 3, "fan_in", "uniform"),
}


def fan_in_uniform_bias(fan_in: int):
    """The initializer U(−1/√fan_in, 1/√fan_in), drawn by `jax.random.uniform`."""
    bound = 1 / math.sqrt(fan_in)

    def init(key: jax.Array, shape: Any, dtype: Any = jnp.float32) -> jax.Array:
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def framework_layers(spec: ModelSpec, dtype: jnp.dtype) -> list[Layer]:
    """The initial parameters Flax draws for `spec`'s network from `nnx.Rngs(seed)`, in
    `dtype`, in the weight-format orientation."""
    init, network = spec.init, spec.network  # the spec allows only the named schemes here
    like_weights = network.bias and init.bias == "like_weights"
    if like_weights and init.scheme != "fan_in_uniform":
        raise SpecError(
            f'init.bias: jax.nn.initializers has no bias like "{init.scheme}" kernels; '
            'use bias = "zeros" or init.draw = "reference"'
        )
    rngs = nnx.Rngs(spec.training.seed)
    layers = []
    for n_out, n_in in network.shapes:
        linear = nnx.Linear(
            n_in,
            n_out,
            use_bias=network.bias,
            param_dtype=dtype,
            kernel_init=KERNEL_INITIALIZERS[init.scheme],
            bias_init=fan_in_uniform_bias(n_in) if like_weights else nnx.initializers.zeros_init(),
            rngs=rngs,
        )
        bias = None if linear.bias is None else np.array(linear.bias[...])
        layers.append(Layer(np.array(linear.kernel[...]).T.copy(), bias))
    return layers
