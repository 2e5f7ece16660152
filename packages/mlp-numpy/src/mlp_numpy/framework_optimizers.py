"""The optimizer forms other frameworks' built-ins compute where they are not the plain
formulas of optimizers.py (docs/model-spec.md#conventions).

The spec names each form as a convention; the reference implements every one, so each
framework is proven equal to the reference under its own forms (`mlp_numpy.conventions`):

    velocity = "step"                  Keras's SGD: the velocity in units of steps
        momentum   v ← μ v − η g;  w ← w + v
        nesterov   v ← μ v − η g;  w ← w + μ v − η g
    eps_placement = "eps_hat"          Keras's Adam: ε added before the bias correction
        w ← w − η_t m / (√v + ε),  η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ)
    weight_decay_form = "decoupled"    Keras's weight_decay, AdamW, Optax's adamw
        w ← w − η λ w first, then the update from the undecayed gradient
    hyperparameter_precision = "float32"   Keras on TensorFlow, even in float64 training
        μ, λ and the β inside βᵗ rounded to float32 first
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .optimizers import SGD, Adam, UpdateRule
from .spec import Optimizer


def as_used(value: float, spec: Optimizer) -> float:
    """A hyperparameter as the update uses it: rounded to float32 under
    `hyperparameter_precision = "float32"` (where Keras's TensorFlow backend casts a Python
    float through a float32 tensor, even in float64 training), else exactly."""
    return float(np.float32(value)) if spec.hyperparameter_precision == "float32" else value


class FrameworkSGD(SGD):
    """SGD with μ and λ at the spec's precision and, with `velocity = "step"`, the
    velocity in units of steps (coupled weight decay, if any, first: g ← g + λ w)."""

    def __init__(self, spec: Optimizer, w: np.ndarray) -> None:
        super().__init__(spec, w)
        self.momentum = as_used(spec.momentum, spec)
        self.weight_decay = as_used(spec.weight_decay, spec)
        self.velocity_in_steps = spec.velocity == "step"

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None:
        """One update of the parameters w from their gradient g, at learning rate lr."""
        v = self.velocity
        if v is None or not self.velocity_in_steps:
            super().step(w, g, lr)
            return
        if self.weight_decay:
            g = g + self.weight_decay * w  # g ← g + λ w
        v *= self.momentum
        v -= g * lr  # v ← μ v − η g
        w += v * self.momentum - g * lr if self.nesterov else v  # w ← w + (μ v − η g), or v


class FrameworkAdam(Adam):
    """Adam with the β inside βᵗ (and λ) at the spec's precision and, with
    `eps_placement = "eps_hat"`, ε added to √v before the bias correction."""

    def __init__(self, spec: Optimizer, w: np.ndarray) -> None:
        super().__init__(spec, w)
        self.weight_decay = as_used(spec.weight_decay, spec)
        # The β inside the bias corrections' powers βᵗ, which Keras rounds (not 1 − β).
        self.power_beta1, self.power_beta2 = as_used(spec.beta1, spec), as_used(spec.beta2, spec)
        self.eps_hat = spec.eps_placement == "eps_hat"

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None:
        """One update of the parameters w from their gradient g, at learning rate lr."""
        self.t += 1
        if self.weight_decay:
            g = g + self.weight_decay * w  # g ← g + λ w
        self.update_moments(g)
        correction1 = 1 - self.power_beta1**self.t
        correction2 = 1 - self.power_beta2**self.t
        if not self.eps_hat:
            self.descend(w, lr, correction1, correction2)
            return
        s = self.scratch  # w ← w − η_t m / (√v + ε), η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ)
        np.sqrt(self.v, out=s)
        s += self.eps
        np.divide(self.m, s, out=s)
        s *= lr * math.sqrt(correction2) / correction1
        w -= s


class DecoupledWeightDecay:
    """w ← w − η λ w, then `optimizer`'s update from the undecayed gradient."""

    def __init__(self, optimizer: UpdateRule, weight_decay: float) -> None:
        self.optimizer = optimizer
        self.weight_decay = weight_decay

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None:
        """One update of the parameters w from their gradient g, at learning rate lr."""
        w -= w * self.weight_decay * lr  # w ← w − η λ w
        self.optimizer.step(w, g, lr)


def make_framework_optimizer(spec: Optimizer, w: np.ndarray) -> UpdateRule:
    """The spec's optimizer in the forms its conventions name, with its state shaped like
    the flat parameters `w`."""
    if spec.weight_decay and spec.weight_decay_form == "decoupled":
        undecayed = make_framework_optimizer(replace(spec, weight_decay=0.0), w)
        return DecoupledWeightDecay(undecayed, as_used(spec.weight_decay, spec))
    return FrameworkAdam(spec, w) if spec.name == "adam" else FrameworkSGD(spec, w)
