"""The spec's losses as PyTorch's own `torch.nn.functional` losses, on the logits z.

With N samples of K outputs, y the targets and a = f(z) the outputs:

    cross_entropy  L = (1/N) Σ_n −log softmax(z_n)_(label n)   F.cross_entropy(z, labels)
    bce            L = (1/D) Σ [softplus(z) − y z]             F.binary_cross_entropy_with_logits
    mse            L = (1/D) Σ (a − y)²                        F.mse_loss(f(z), y)

`loss.form` selects the forms that start from the probabilities a = f(z):

    clipped_probabilities  L = −(1/N) Σ_n log clip(p, ε, 1 − ε)_(label n),  p = a / Σ_k a_k
                           F.nll_loss(torch.log(torch.clamp(p, ε, 1 − ε)), labels), ε = 1e-7
                           (PyTorch has no built-in; this is Keras's from_logits=False)
    clamped_log            F.binary_cross_entropy(torch.sigmoid(z), y): BCELoss, whose
                           logarithms are clamped at −100

D is N·K for reduction "mean", which is PyTorch's `reduction="mean"`, and N for
"sum_outputs" (sum over the outputs, mean over the samples), which PyTorch has no
reduction for: `reduction="sum"`, then a division by N. Cross-entropy sums one term per
sample whatever the reduction, so it is always `reduction="mean"`. Cross-entropy takes
the class indices as targets (PyTorch's usual form), bce and mse one-hot rows.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from mlp_numpy.spec import Loss

from .activations import output_function

LossFunction = Callable[[Tensor, Tensor], Tensor]  # (logits z, targets) -> 0-dim loss


def loss_function(loss: Loss, output: str) -> LossFunction:
    """The batch loss L(z, targets) of the spec's `loss` for a network whose output
    function is `output` (mse measures f(z); the others take z itself)."""
    if loss.form == "clipped_probabilities":
        return clipped_cross_entropy
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
        f = output_function(output)
        if loss.reduction == "mean":
            return lambda z, y: F.mse_loss(f(z), y)
        return lambda z, y: F.mse_loss(f(z), y, reduction="sum") / len(z)
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


def clipped_cross_entropy(z: Tensor, labels: Tensor, epsilon: float = 1e-7) -> Tensor:
    """The cross-entropy of the softmax probabilities clipped to [ε, 1 − ε] (Keras's
    `from_logits=False`), written in plain PyTorch: autograd gives its gradient."""
    a = F.softmax(z, dim=1)
    p = a / a.sum(dim=1, keepdim=True)
    return F.nll_loss(torch.log(torch.clamp(p, epsilon, 1 - epsilon)), labels)


def targets(labels: Tensor, loss: Loss, classes: int, dtype: torch.dtype) -> Tensor:
    """What the loss compares the logits with: the class indices (int64) for
    cross-entropy, one-hot rows in the training dtype for bce and mse."""
    if loss.name == "cross_entropy":
        return labels
    return F.one_hot(labels, classes).to(dtype)
