"""The spec's losses as Optax's own losses, on the logits z.

With N samples of K outputs, y the one-hot targets and a = f(z) the outputs:

    cross_entropy  L = (1/N) Σ_n −log softmax(z_n)_(label n)
                   optax.softmax_cross_entropy_with_integer_labels(z, labels).mean()
    bce            L = (1/D) Σ [softplus(z) − y z]
                   optax.sigmoid_binary_cross_entropy(z, y), reduced
    mse            L = (1/D) Σ (a − y)²
                   optax.squared_error(f(z), y), reduced

Optax's losses return one value per sample (cross-entropy) or per output (the others) and
leave the reduction to the caller: D = N·K for the spec's "mean" (`.mean()`), D = N for
"sum_outputs" (`.sum(axis=-1).mean()`, the sum over the outputs averaged over the
samples). Cross-entropy has one term per sample, so both reductions are its mean.
(`optax.l2_loss` is half the squared error, hence `squared_error`.)

Optax's cross-entropy losses take logits only. `loss.form` "clipped_probabilities"
(Keras's from_logits=False) and "clamped_log" (PyTorch's BCELoss) have no Optax built-in:
`make_loss` raises `ConventionError`. A binary classifier (one sigmoid output) and a
regression network (identity outputs) take these same losses on their (N, K) targets
(docs/model-spec.md#tasks).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mlp_numpy.conventions import ConventionError
from mlp_numpy.inputs import training_targets
from mlp_numpy.spec import Loss, Network

from .activations import output_activation

LossFunction = Callable[[jax.Array, jax.Array], jax.Array]  # (logits z, targets) -> loss


def make_loss(loss: Loss, network: Network) -> LossFunction:
    """The batch loss L(z, targets) of the spec's `loss` for `network` (mse measures the
    output activation's f(z); the others take z itself)."""
    if loss.form in ("clipped_probabilities", "clamped_log"):
        raise ConventionError(
            f"loss.form: Optax's {'softmax' if loss.name == 'cross_entropy' else 'sigmoid'} "
            f'cross-entropy takes the logits; "{loss.form}" has no Optax built-in'
        )
    if loss.name == "cross_entropy":
        return lambda z, labels: optax.softmax_cross_entropy_with_integer_labels(z, labels).mean()
    reduce = reduction(loss.reduction)
    if loss.name == "bce":
        return lambda z, y: reduce(optax.sigmoid_binary_cross_entropy(z, y))
    if loss.name == "mse":
        f = output_activation(network.output)
        return lambda z, y: reduce(optax.squared_error(f(z), y))
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


def reduction(name: str) -> Callable[[jax.Array], jax.Array]:
    """The spec's reduction of an (N, K) array of per-output losses to the batch loss."""
    if name == "mean":
        return jnp.mean
    if name == "sum_outputs":
        return lambda losses: losses.sum(axis=-1).mean()
    raise ValueError(f"loss.reduction: unknown reduction {name!r}")


def targets(labels: np.ndarray, loss: Loss, network: Network, dtype: jnp.dtype) -> np.ndarray:
    """What the loss compares the logits with: the class indices (int32) for
    cross-entropy, else the (N, K) targets of the task in the training dtype (one-hot
    rows, a binary classifier's 0/1 column, a regression network's values)."""
    if loss.name == "cross_entropy":
        return np.asarray(labels, dtype=np.int32)
    return training_targets(labels, network, dtype)
