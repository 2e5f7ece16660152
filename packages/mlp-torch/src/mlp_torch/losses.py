"""The spec's losses as PyTorch's own `torch.nn.functional` losses.

With N samples of K outputs, z the logits, y the targets and a = f(z) the outputs:

    cross_entropy  L = (1/N) Σ_n −log softmax(z_n)_(label n)   F.cross_entropy(z, labels)
    bce            L = (1/D) Σ [softplus(z) − y z]             F.binary_cross_entropy_with_logits
    mse            L = (1/D) Σ (a − y)²                        F.mse_loss(f(z), y)

D is N·K for reduction "mean", which is PyTorch's `reduction="mean"`, and N for
"sum_outputs" (sum over the outputs, mean over the samples), which PyTorch has no
reduction for: `reduction="sum"`, then a division by N. Cross-entropy sums one term per
sample whatever the reduction, so it is always `reduction="mean"`. Cross-entropy takes
the class indices as targets (PyTorch's usual form), bce and mse one-hot rows.

`loss.form` (docs/model-spec.md#loss-forms): PyTorch's losses above take the logits
("logits", its built-in form). "clamped_log" is `F.binary_cross_entropy(torch.sigmoid(z),
y)`, `BCELoss` on the sigmoid outputs, whose logarithms are clamped at −100. PyTorch has no
built-in for "clipped_probabilities" (Keras's cross-entropy of clipped probabilities):
`make_loss` raises `ConventionError`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from mlp_numpy.conventions import ConventionError
from mlp_numpy.spec import Loss, Network

from .activations import output_activation

LossFunction = Callable[[Tensor, Tensor], Tensor]  # (logits z, targets) -> 0-dim loss


def make_loss(loss: Loss, network: Network) -> LossFunction:
    """The batch loss L(z, targets) of the spec's `loss` for `network` (mse measures the
    output activation's f(z); the others take z itself)."""
    if loss.form == "clipped_probabilities":
        raise ConventionError(
            "loss.form: PyTorch's cross-entropy losses take logits or log-probabilities; "
            '"clipped_probabilities" (Keras\'s from_logits=False) has no torch.nn built-in'
        )
    if loss.form == "clamped_log":
        if loss.reduction == "mean":
            return lambda z, y: F.binary_cross_entropy(torch.sigmoid(z), y)
        return lambda z, y: F.binary_cross_entropy(torch.sigmoid(z), y, reduction="sum") / len(z)
    if loss.name == "cross_entropy":
        return F.cross_entropy
    if loss.name == "bce":
        if loss.reduction == "mean":
            return F.binary_cross_entropy_with_logits
        return lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="sum") / len(z)
    if loss.name == "mse":
        f = output_activation(network.output)
        if loss.reduction == "mean":
            return lambda z, y: F.mse_loss(f(z), y)
        return lambda z, y: F.mse_loss(f(z), y, reduction="sum") / len(z)
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


def targets(labels: Tensor, loss: Loss, classes: int, dtype: torch.dtype) -> Tensor:
    """What the loss compares the logits with: the class indices (int64) for
    cross-entropy, one-hot rows in the training dtype for bce and mse."""
    if loss.name == "cross_entropy":
        return labels
    return F.one_hot(labels, classes).to(dtype)
