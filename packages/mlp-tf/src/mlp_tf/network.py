"""The network's math in TensorFlow: activations, outputs and losses, each derivative beside
its forward, and the forward and backward passes written out by hand.

Parameters are kept as Keras keeps them: a kernel `W` of shape `(in, out)` and a bias `b` of
shape `(out,)`, so a layer computes `z = h W + b` (the weight format's `(out, in)` matrix is
the kernel transposed). The backward pass is the one of the reference, product for product:

    δ_L = ∂L/∂z_L                           from the loss (fused for cross-entropy and bce)
    ∂L/∂W_l = h_{l-1}ᵀ δ_l,  ∂L/∂b_l = Σ_n δ_l
    δ_{l-1} = (δ_l W_lᵀ) ⊙ g′(z_{l-1})

Nothing here uses `tf.GradientTape`: every gradient is the formula of docs/model-spec.md.
"""

from collections.abc import Callable
from typing import NamedTuple

import tensorflow as tf

from mlp_numpy.spec import Loss, Network

Tensor = tf.Tensor


class Activation(NamedTuple):
    """A hidden activation g: `forward(z)` and `derivative(z, a)` with `a = g(z)`."""

    forward: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor, Tensor], Tensor]


def hidden_activation(network: Network) -> Activation:
    """g and g′ for `network.hidden`."""
    name = network.hidden
    if name == "sigmoid":
        # σ′(z) = σ(z) (1 − σ(z))
        return Activation(tf.sigmoid, lambda z, a: a * (1 - a))
    if name == "relu":
        # relu′(z) = 1 if z > 0 else 0 (0 at z = 0)
        return Activation(tf.nn.relu, lambda z, a: tf.cast(z > 0, z.dtype))
    if name == "tanh":
        # tanh′(z) = 1 − tanh² z
        return Activation(tf.tanh, lambda z, a: 1 - a * a)
    if name == "leaky_relu":
        slope = network.leaky_slope
        # leaky′(z) = 1 if z > 0 else s
        return Activation(
            lambda z: tf.where(z > 0, z, slope * z),
            lambda z, a: tf.where(z > 0, tf.ones_like(z), slope * tf.ones_like(z)),
        )
    raise ValueError(f"network.hidden: unknown activation {name!r}")


def output_activation(name: str, z: Tensor) -> Tensor:
    """The network's output a = f(z): softmax (after subtracting the row maximum), sigmoid or
    identity."""
    if name == "softmax":
        e = tf.exp(z - tf.reduce_max(z, axis=1, keepdims=True))
        return e / tf.reduce_sum(e, axis=1, keepdims=True)
    if name == "sigmoid":
        return tf.sigmoid(z)
    if name == "identity":
        return z
    raise ValueError(f"network.output: unknown output {name!r}")


def _softplus(z: Tensor) -> Tensor:
    """softplus(z) = max(z, 0) + log1p(e^(−|z|)), which never overflows."""
    return tf.maximum(z, 0) + tf.math.log1p(tf.exp(-tf.abs(z)))


def _logsumexp(z: Tensor) -> Tensor:
    """log Σ_k e^(z_k) per row, as m + log Σ e^(z − m) with m = max z."""
    m = tf.reduce_max(z, axis=1)
    return m + tf.math.log(tf.reduce_sum(tf.exp(z - m[:, None]), axis=1))


def loss_and_delta(loss: Loss, output: str, z: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """The batch loss L (float64, computed from the logits) and the output delta ∂L/∂z.

    D, the divisor, is N·K for the element-wise losses with `mean`, N otherwise:

        cross_entropy  L = (1/N) Σ_n [logsumexp(z_n) − z_n·y_n]    ∂L/∂z = (softmax(z) − y) / N
        bce            L = (1/D) Σ [softplus(z) − y z]            ∂L/∂z = (σ(z) − y) / D
        mse            L = (1/D) Σ (a − y)²                       ∂L/∂a = 2 (a − y) / D,
                       then ∂L/∂z through the output activation f
    """
    n, k = tf.shape(z)[0], tf.shape(z)[1]
    elementwise = loss.name != "cross_entropy" and loss.reduction == "mean"
    divisor = tf.cast(n * k if elementwise else n, tf.float64)
    scale = tf.cast(1 / divisor, z.dtype)  # 1/D in float64, then in the training dtype
    z64, y64 = tf.cast(z, tf.float64), tf.cast(y, tf.float64)
    if loss.name == "cross_entropy":
        value = tf.reduce_sum(_logsumexp(z64) - tf.reduce_sum(z64 * y64, axis=1)) / divisor
        return value, (output_activation("softmax", z) - y) * scale
    if loss.name == "bce":
        value = tf.reduce_sum(_softplus(z64) - y64 * z64) / divisor
        return value, (tf.sigmoid(z) - y) * scale
    if loss.name == "mse":
        a = output_activation(output, z)
        error = tf.cast(a, tf.float64) - y64
        value = tf.reduce_sum(error * error) / divisor
        g = (a - y) * (2 * scale)
        if output == "softmax":
            # ∂L/∂z = a ⊙ (g − Σ_k g_k a_k)
            return value, a * (g - tf.reduce_sum(g * a, axis=1, keepdims=True))
        if output == "sigmoid":
            # ∂L/∂z = g ⊙ a (1 − a)
            return value, g * a * (1 - a)
        return value, g
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


def forward(
    network: Network, kernels: list[Tensor], biases: list[Tensor | None], x: Tensor
) -> Tensor:
    """The network's output a for inputs x."""
    g = hidden_activation(network)
    h = x
    for i, (w, b) in enumerate(zip(kernels, biases, strict=True)):
        z = tf.matmul(h, w) if b is None else tf.matmul(h, w) + b
        h = g.forward(z) if i < len(kernels) - 1 else output_activation(network.output, z)
    return h


def gradients(
    network: Network,
    loss: Loss,
    kernels: list[Tensor],
    biases: list[Tensor | None],
    x: Tensor,
    y: Tensor,
) -> tuple[Tensor, list[Tensor], list[Tensor | None]]:
    """The batch loss and its gradients with respect to every kernel and bias."""
    g = hidden_activation(network)
    inputs, pre, post = [], [], []
    h = x
    for i, (w, b) in enumerate(zip(kernels, biases, strict=True)):
        z = tf.matmul(h, w) if b is None else tf.matmul(h, w) + b
        inputs.append(h)
        if i < len(kernels) - 1:
            h = g.forward(z)
            pre.append(z)
            post.append(h)
    value, delta = loss_and_delta(loss, network.output, z, y)

    kernel_grads: list[Tensor] = [None] * len(kernels)
    bias_grads: list[Tensor | None] = [None] * len(kernels)
    for i in reversed(range(len(kernels))):
        kernel_grads[i] = tf.matmul(inputs[i], delta, transpose_a=True)
        if biases[i] is not None:
            bias_grads[i] = tf.reduce_sum(delta, axis=0)
        if i > 0:
            delta = tf.matmul(delta, kernels[i], transpose_b=True) * g.derivative(
                pre[i - 1], post[i - 1]
            )
    return value, kernel_grads, bias_grads
