"""The spec's activation functions as Keras layers and activations.

Hidden layers apply g element-wise after each `Dense` layer but the last (s is
network.leaky_slope):

    relu        g(z) = max(z, 0)                        keras.layers.Activation("relu")
    leaky_relu  g(z) = z if z > 0 else s·z              keras.layers.LeakyReLU(s)
    sigmoid     g(z) = 1 / (1 + e^(−z))                 keras.layers.Activation("sigmoid")
    tanh        g(z) = tanh z                           keras.layers.Activation("tanh")

The output activation f turns the logits z into the network's outputs a = f(z):

    softmax     a_k = e^(z_k) / Σ_j e^(z_j), per row    keras.activations.softmax
    sigmoid     a = 1 / (1 + e^(−z))                    keras.activations.sigmoid
    identity    a = z                                   keras.activations.linear

TensorFlow differentiates them; the cross-entropy losses take the logits (see `losses`).
"""

from collections.abc import Callable

import keras

from mlp_numpy.spec import Network


def hidden_activation(network: Network) -> keras.layers.Layer:
    """g, the hidden activation of `network` (with its `leaky_slope`), as a layer in
    Keras's float type (`keras.config.floatx()`)."""
    if network.hidden == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=network.leaky_slope)
    if network.hidden in ("relu", "sigmoid", "tanh"):
        return keras.layers.Activation(network.hidden)
    raise ValueError(f"network.hidden: unknown activation {network.hidden!r}")


def output_activation(name: str) -> Callable:
    """f, the output activation called `name` in the spec."""
    if name == "softmax":
        return keras.activations.softmax
    if name == "sigmoid":
        return keras.activations.sigmoid
    if name == "identity":
        return keras.activations.linear
    raise ValueError(f"network.output: unknown output {name!r}")
