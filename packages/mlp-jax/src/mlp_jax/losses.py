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
(Keras's from_logits=False) and "clamped_log" (PyTorch's BCELoss) have no Optax built-in
and raise `ConventionError`.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mlp_numpy.conventions import ConventionError
from mlp_numpy.inputs import one_hot
from mlp_numpy.spec import Loss

from .activations import output_function

LossFunction = Callable[[jax.Array, jax.Array], jax.Array]  # (logits z, targets) -> loss


def check_form(loss: Loss) -> None:
    """Raise ConventionError, naming the field, for a loss form Optax has no built-in for."""
    if loss.form in ("clipped_probabilities", "clamped_log"):
        raise ConventionError(
            f"loss.form: Optax's {'softmax' if loss.name == 'cross_entropy' else 'sigmoid'} "
            f'cross-entropy takes the logits; "{loss.form}" has no Optax built-in'
        )


def loss_function(loss: Loss, output: str) -> LossFunction:
    """The batch loss L(z, targets) of the spec's `loss` for a network whose output
    function is `output` (mse measures f(z); the others take z itself)."""
    check_form(loss)
    if loss.name == "cross_entropy":
        return lambda z, labels: optax.softmax_cross_entropy_with_integer_labels(z, labels).mean()
    reduce = reduction(loss.reduction)
    if loss.name == "bce":
        return lambda z, y: reduce(optax.sigmoid_binary_cross_entropy(z, y))
    if loss.name == "mse":
        f = output_function(output)
        return lambda z, y: reduce(optax.squared_error(f(z), y))
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


def reduction(name: str) -> Callable[[jax.Array], jax.Array]:
    """The spec's reduction of an (N, K) array of per-output losses to the batch loss."""
    if name == "mean":
        return jnp.mean
    if name == "sum_outputs":
        return lambda losses: losses.sum(axis=-1).mean()
    raise ValueError(f"loss.reduction: unknown reduction {name!r}")


def targets(labels: np.ndarray, loss: Loss, classes: int, dtype: jnp.dtype) -> np.ndarray:
    """What the loss compares the logits with: the class indices (int32) for
    cross-entropy, one-hot rows in the training dtype for bce and mse."""
    if loss.name == "cross_entropy":
        return np.asarray(labels, dtype=np.int32)
    return one_hot(labels, classes, dtype)
