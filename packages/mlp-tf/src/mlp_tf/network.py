"""The network of a spec as a Keras `Sequential` of `Dense` layers.

A `Dense` layer computes `z = h W + b` with a kernel `W` of shape `(in, out)`: the weight
format's `(out, in)` matrix, transposed. Each hidden `Dense` is followed by the hidden
activation's layer (`activations`); the last one ends in the output activation, or, for a
Keras loss that takes logits (`from_logits=True`), in none.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import numpy as np

from mlp_numpy import Layer
from mlp_numpy.layer import check_layers
from mlp_numpy.spec import Network

from .activations import hidden_activation, output_activation


@contextmanager
def keras_floatx(dtype: str) -> Iterator[None]:
    """Keras's default float type and dtype policy set to `dtype` for the block (then put
    back).

    Keras builds a loss's arithmetic and an optimizer's learning rate in
    `keras.config.floatx()`, and a layer without a dtype of its own in the global dtype
    policy's (`keras.config.dtype_policy()`, fixed at its first use); building a float64
    model inside this block makes all of them float64, as `keras.config.set_floatx` and
    `keras.config.set_dtype_policy` would for the whole process.
    """
    previous, previous_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)
        keras.config.set_dtype_policy(previous_policy)


def MLP(
    network: Network, layers: list[Layer], dtype: str, *, logits: bool = False
) -> keras.Sequential:
    """A `keras.Sequential` of `Dense` layers holding `layers`, in `dtype`, as Keras's
    model functions (`keras.applications.*`) build one. With `logits`, the last layer
    has no activation: the model outputs z_L, for a Keras loss `from_logits=True`."""
    check_layers(network, layers)
    model = keras.Sequential([keras.Input((network.layers[0],), dtype=dtype)])
    last = len(layers) - 1
    with keras_floatx(dtype):
        for i, (weight, bias) in enumerate(layers):
            output = None if i < last or logits else output_activation(network.output)
            dense = keras.layers.Dense(
                weight.shape[0], activation=output, use_bias=bias is not None, dtype=dtype
            )
            model.add(dense)
            kernel = np.asarray(weight, dtype).T  # (out, in) → (in, out)
            dense.set_weights([kernel] if bias is None else [kernel, np.asarray(bias, dtype)])
            if i < last:
                model.add(hidden_activation(network))
    return model


def dense_layers(model: keras.Model) -> list[Layer]:
    """The parameters of the model's `Dense` layers, in the weight format: weights (out, in)."""
    return [
        Layer(
            dense.kernel.numpy().T.copy(),
            dense.bias.numpy().copy() if dense.use_bias else None,
        )
        for dense in model.layers
        if isinstance(dense, keras.layers.Dense)
    ]
