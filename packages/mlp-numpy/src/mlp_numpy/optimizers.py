"""Optimizers (docs/model-spec.md#optimizers), updating parameters in place.

All parameters live in one flat array `w` and their gradients in one flat array `g`
(the layers are views into them), so each update is a handful of vectorized
operations over the whole network. `g` is ∂L/∂w, from backprop; `step` leaves it as
it is, so the gradient can be read after the update.

With weight decay λ (coupled L2, as PyTorch), first g ← g + λ w. Then, with η the
learning rate and t the number of updates so far including this one:

    sgd        w ← w − η g
    momentum   v ← μ v + g;  w ← w − η v
    nesterov   v ← μ v + g;  w ← w − η (g + μ v)
    adam       m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
               w ← w − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)

The spec's optimizer conventions (docs/model-spec.md#optimizer-conventions) select
Keras's forms instead:

    weight_decay_form = "decoupled"   w ← w − η λ w  before the update, instead of g ← g + λ w
    velocity = "step"                 momentum   v ← μ v − η g;  w ← w + v
                                      nesterov   v ← μ v − η g;  w ← w + μ v − η g
    eps_placement = "eps_hat"         adam       w ← w − η_t m / (√v + ε),
                                                 η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ)
    hyperparameter_precision          μ, λ and the β inside βᵗ rounded to
      = "float32"                     float32 first, as Keras's TensorFlow backend does
"""

from __future__ import annotations

import math

import numpy as np

from .spec import Optimizer


def as_used(value: float, spec: Optimizer) -> float:
    """A hyperparameter as the update uses it: rounded to float32 under
    `hyperparameter_precision = "float32"` (where Keras's TensorFlow backend casts a Python
    float through a float32 tensor, even in float64 training), else exactly."""
    return float(np.float32(value)) if spec.hyperparameter_precision == "float32" else value


class SGD:
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    def __init__(self, spec: Optimizer, w: np.ndarray) -> None:
        self.momentum = as_used(spec.momentum, spec)
        self.nesterov = spec.nesterov
        self.decoupled = spec.weight_decay_form == "decoupled"
        self.weight_decay = as_used(spec.weight_decay, spec)
        self.velocity_in_steps = spec.velocity == "step"
        self.velocity = np.zeros_like(w) if spec.momentum else None

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None:
        """One update of the parameters w from their gradient g, at learning rate lr."""
        if self.weight_decay and self.decoupled:
            w -= w * self.weight_decay * lr  # w ← w − η λ w, first (as Keras)
        elif self.weight_decay:
            g = g + self.weight_decay * w  # g ← g + λ w
        v = self.velocity
        if v is None:
            w -= lr * g  # w ← w − η g
        elif self.velocity_in_steps:  # Keras: the velocity in units of steps
            v *= self.momentum
            v -= g * lr  # v ← μ v − η g
            w += v * self.momentum - g * lr if self.nesterov else v  # w ← w + (μ v − η g), or v
        else:
            v *= self.momentum
            v += g  # v ← μ v + g
            g = g + self.momentum * v if self.nesterov else v  # the direction g + μ v, or v
            w -= lr * g  # w ← w − η g


class Adam:
    """Adam with bias correction (Kingma & Ba, Algorithm 1), written as PyTorch computes it:

    w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε),

    which is η m̂ / (√v̂ + ε) rearranged so that m̂ and v̂ are never materialized.
    The corrections 1 − βᵗ are Python floats (float64) whatever the training dtype.
    """

    def __init__(self, spec: Optimizer, w: np.ndarray) -> None:
        self.beta1, self.beta2, self.eps = spec.beta1, spec.beta2, spec.eps
        # The β inside the bias corrections' powers βᵗ, which Keras rounds (not 1 − β).
        self.power_beta1, self.power_beta2 = as_used(spec.beta1, spec), as_used(spec.beta2, spec)
        self.decoupled = spec.weight_decay_form == "decoupled"
        self.weight_decay = as_used(spec.weight_decay, spec)
        self.eps_hat = spec.eps_placement == "eps_hat"
        self.m = np.zeros_like(w)
        self.v = np.zeros_like(w)
        self.scratch = np.empty_like(w)
        self.t = 0

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None:
        """One update of the parameters w from their gradient g, at learning rate lr."""
        m, v, s = self.m, self.v, self.scratch
        self.t += 1
        if self.weight_decay and self.decoupled:
            w -= w * self.weight_decay * lr  # w ← w − η λ w, first (as Keras)
        elif self.weight_decay:
            g = g + self.weight_decay * w  # g ← g + λ w
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=s)
        m += s  # m ← β₁ m + (1 − β₁) g
        v *= self.beta2
        np.multiply(g, g, out=s)
        s *= 1 - self.beta2
        v += s  # v ← β₂ v + (1 − β₂) g²
        correction1 = 1 - self.power_beta1**self.t
        correction2 = 1 - self.power_beta2**self.t
        if self.eps_hat:  # Keras: w ← w − η_t m / (√v + ε), η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ)
            np.sqrt(v, out=s)
            s += self.eps
            np.divide(m, s, out=s)
            s *= lr * math.sqrt(correction2) / correction1
            w -= s
            return
        np.sqrt(v, out=s)
        s /= math.sqrt(correction2)
        s += self.eps  # √v̂ + ε
        np.divide(m, s, out=s)
        s *= lr / correction1  # η m̂ / (√v̂ + ε)
        w -= s


def make_optimizer(spec: Optimizer, w: np.ndarray) -> SGD | Adam:
    """The optimizer of the spec, with its state shaped like the flat parameters `w`."""
    return Adam(spec, w) if spec.name == "adam" else SGD(spec, w)
