"""The spec's optimizer as PyTorch's own `torch.optim` optimizer: the one place where the
spec's optimizer fields become torch.optim arguments.

With g = ∂L/∂w, η the learning rate of the epoch, t the update count and λ the weight
decay (coupled, as torch.optim's `weight_decay`: g ← g + λ w first):

    sgd        w ← w − η g                               SGD(momentum=0)
    momentum   v ← μ v + g;  w ← w − η v                 SGD(momentum=μ)
    nesterov   v ← μ v + g;  w ← w − η (g + μ v)         SGD(momentum=μ, nesterov=True)
    adam       m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
               w ← w − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
                                                         Adam(betas=(β₁, β₂), eps=ε)

These are the spec's formulas (docs/model-spec.md#optimizers) and mlp-numpy's; the parity
tests check torch.optim against mlp-numpy step by step. The learning rate lives in each
param group's `lr`, which the engine sets every epoch from the spec's schedule.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from mlp_numpy.conventions import ConventionError
from mlp_numpy.spec import Optimizer


def check_conventions(spec: Optimizer) -> None:
    """Raise ConventionError, naming the field, for a convention torch.optim cannot express:
    Keras's ε̂ placement, the velocity in step units, float32-rounded hyperparameters, and
    decoupled weight decay for SGD with momentum (Adam's is `torch.optim.AdamW`)."""
    field = "training.optimizer"
    if spec.name == "adam" and spec.eps_placement == "eps_hat":
        raise ConventionError(
            f'{field}.eps_placement: torch.optim.Adam adds ε to √v̂; "eps_hat" (Keras) has no '
            "torch.optim built-in"
        )
    if spec.name == "sgd" and spec.momentum and spec.velocity == "step":
        raise ConventionError(
            f'{field}.velocity: torch.optim.SGD keeps the velocity in gradient units; "step" '
            "(Keras) has no torch.optim built-in"
        )
    if spec.hyperparameter_precision == "float32":
        raise ConventionError(
            f"{field}.hyperparameter_precision: torch.optim uses the hyperparameters as given; "
            '"float32" (Keras\'s TensorFlow backend) has no torch.optim built-in'
        )
    decoupled = spec.weight_decay and spec.weight_decay_form == "decoupled"
    if decoupled and spec.name == "sgd" and spec.momentum:
        raise ConventionError(
            f'{field}.weight_decay_form: torch.optim.SGD\'s weight_decay is coupled; "decoupled" '
            "with momentum has no torch.optim built-in"
        )


def make_optimizer(
    spec_optimizer: Optimizer,
    params: Iterable[Tensor],
    *,
    lr: float = 0.001,
    fused: bool | None = None,
) -> torch.optim.Optimizer:
    """`torch.optim.SGD` or `torch.optim.Adam` over `params`, configured by the spec.

    `fused` is torch.optim's own choice of implementation: None is its default (a loop over
    the parameters on CPU, `foreach` kernels on CUDA), True one fused kernel per parameter.
    It changes the speed, not the formula.
    """
    check_conventions(spec_optimizer)
    decoupled = spec_optimizer.weight_decay_form == "decoupled" and spec_optimizer.weight_decay
    if spec_optimizer.name == "adam":
        # Decoupled decay is AdamW's w ← w − η λ w before the Adam step; coupled is Adam's.
        adam = torch.optim.AdamW if decoupled else torch.optim.Adam
        return adam(
            params,
            lr=lr,
            betas=(spec_optimizer.beta1, spec_optimizer.beta2),
            eps=spec_optimizer.eps,
            weight_decay=spec_optimizer.weight_decay,
            fused=fused,
        )
    if spec_optimizer.name == "sgd":
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=spec_optimizer.momentum,
            nesterov=spec_optimizer.nesterov,
            weight_decay=spec_optimizer.weight_decay,
            fused=fused,
        )
    raise ValueError(f"training.optimizer.name: unknown optimizer {spec_optimizer.name!r}")
