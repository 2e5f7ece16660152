"""Initial weights drawn by Keras itself, for `init.draw = "framework"`
(docs/model-spec.md#initialization).

A Keras tutorial calls `keras.utils.set_random_seed(seed)` and builds its `Dense` layers, each
drawing its kernel and bias with its initializers from Keras's global seed generator.
`framework_layers` does the same with `training.seed` (so it also seeds Python's, NumPy's
global and TensorFlow's generators, as `set_random_seed` does), in the training dtype:

    xavier_uniform   keras.initializers.GlorotUniform()     Dense's default kernel
    he_uniform       keras.initializers.HeUniform()
    fan_in_uniform   keras.initializers.VarianceScaling(1/3, "fan_in", "uniform"):
                     U(−b, b), b = √(3 · (1/3) / fan_in) = 1/√fan_in (PyTorch's nn.Linear)

with `init.bias = "zeros"` the bias is `Zeros()` (Dense's default), and for `fan_in_uniform`
with `"like_weights"` `RandomUniform(−1/√fan_in, 1/√fan_in)`. Keras's normal initializers
(`GlorotNormal`, `HeNormal`) draw a truncated normal, which is not the spec's normal: those
schemes, and other weights-like biases, are an error naming the field.
"""

import math

import keras

from mlp_numpy import Layer
from mlp_numpy.spec import ModelSpec, SpecError

from .network import dense_layers, keras_floatx

KERNEL_INITIALIZERS = {
    "xavier_uniform": lambda: keras.initializers.GlorotUniform(),
    "he_uniform": lambda: keras.initializers.HeUniform(),
    "fan_in_uniform": lambda: keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
}


def framework_layers(spec: ModelSpec) -> list[Layer]:
    """The initial parameters Keras draws for `spec`'s network after
    `keras.utils.set_random_seed(training.seed)`."""
    init, network, dtype = spec.init, spec.network, spec.training.dtype
    if init.scheme not in KERNEL_INITIALIZERS:
        raise SpecError(
            f'init.draw: "framework" has no Keras initializer for "{init.scheme}" '
            "(Keras's normal initializers are truncated)"
        )
    if network.bias and init.bias == "like_weights" and init.scheme != "fan_in_uniform":
        raise SpecError(
            f'init.bias: Keras has no bias initializer like "{init.scheme}" kernels; '
            'use bias = "zeros" or init.draw = "reference"'
        )
    keras.utils.set_random_seed(spec.training.seed)
    with keras_floatx(dtype):
        model = keras.Sequential([keras.Input((network.layers[0],), dtype=dtype)])
        for n_out, n_in in network.shapes:
            bound = 1 / math.sqrt(n_in)
            bias = (
                keras.initializers.RandomUniform(-bound, bound)
                if init.bias == "like_weights"
                else keras.initializers.Zeros()
            )
            model.add(
                keras.layers.Dense(
                    n_out,
                    use_bias=network.bias,
                    kernel_initializer=KERNEL_INITIALIZERS[init.scheme](),
                    bias_initializer=bias,
                    dtype=dtype,
                )
            )
    return dense_layers(model)
