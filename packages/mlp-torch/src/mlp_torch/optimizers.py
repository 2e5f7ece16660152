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

and with `weight_decay_form = "decoupled"`, Adam is `AdamW`: w ← w − η λ w before the
Adam step. These are torch.optim's built-ins, in the spec's conventions
(docs/model-spec.md#conventions): ε added to √v̂ ("sqrt_v_hat"), the velocity in units of
gradients ("gradient"), coupled weight decay, hyperparameters used as given ("exact").
A spec that pins a convention torch.optim has no built-in for gets `ConventionError`,
naming the field: Keras's ε̂, its velocity in units of steps, decoupled decay with
momentum, and float32-rounded hyperparameters in float64 training. The learning rate
lives in each param group's `lr`, which the engine sets every epoch from the spec's
schedule.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from mlp_numpy.conventions import ConventionError, changed_by_float32
from mlp_numpy.spec import Optimizer


def check_conventions(spec: Optimizer, dtype: torch.dtype) -> None:
    """Raise ConventionError, naming the field, for a convention torch.optim has no
    built-in for, in training of `dtype`."""
    field = "training.optimizer"
    if spec.name == "adam" and spec.eps_placement == "eps_hat":
        raise ConventionError(
            f'{field}.eps_placement: torch.optim.Adam adds ε to √v̂; "eps_hat" (Keras\'s ε '
            "before the bias correction) has no torch.optim built-in"
        )
    if spec.name == "sgd" and spec.momentum and spec.velocity == "step":
        raise ConventionError(
            f"{field}.velocity: torch.optim.SGD keeps the velocity in units of gradients; "
            '"step" (Keras\'s) has no torch.optim built-in'
        )
    rounded = changed_by_float32(spec)
    if dtype == torch.float64 and spec.hyperparameter_precision == "float32" and rounded:
        name, (exact, float32) = next(iter(rounded.items()))
        raise ConventionError(
            f"{field}.hyperparameter_precision: torch.optim uses {name} = {exact!r} as given "
            f'in float64 training; "float32" ({float32!r}, Keras\'s TensorFlow backend) has no '
            "torch.optim built-in"
        )
    decoupled = spec.weight_decay and spec.weight_decay_form == "decoupled"
    if decoupled and spec.name == "sgd" and spec.momentum:
        raise ConventionError(
            f"{field}.weight_decay_form: torch.optim.SGD's weight_decay is coupled; "
            '"decoupled" with momentum has no torch.optim built-in'
        )


def make_optimizer(
    spec: Optimizer, parameters: Iterable[Tensor], *, fused: bool | None = None
) -> torch.optim.Optimizer:
    """`torch.optim.SGD`, `Adam` or `AdamW` over `parameters`, configured by the spec, at
    learning rate 0 until the engine sets the epoch's rate.

    `fused` is torch.optim's own choice of implementation: None is its default (a loop over
    the parameters on CPU, `foreach` kernels on CUDA), True one fused kernel per parameter.
    It changes the speed, not the formula. Raises ConventionError for a convention
    torch.optim has no built-in for (module docstring).
    """
    parameters = list(parameters)
    check_conventions(spec, parameters[0].dtype)
    # For plain SGD, decoupled decay, w − η λ w − η g, is the coupled update w − η (g + λ w).
    decoupled = spec.weight_decay_form == "decoupled" and spec.weight_decay
    if spec.name == "adam":
        # Decoupled decay is AdamW's w ← w − η λ w before the Adam step; coupled is Adam's.
        adam = torch.optim.AdamW if decoupled else torch.optim.Adam
        return adam(
            parameters,
            lr=0.0,
            betas=(spec.beta1, spec.beta2),
            eps=spec.eps,
            weight_decay=spec.weight_decay,
            fused=fused,
        )
    if spec.name == "sgd":
        return torch.optim.SGD(
            parameters,
            lr=0.0,
            momentum=spec.momentum,
            nesterov=spec.nesterov,
            weight_decay=spec.weight_decay,
            fused=fused,
        )
    raise ValueError(f"training.optimizer.name: unknown optimizer {spec.name!r}")
