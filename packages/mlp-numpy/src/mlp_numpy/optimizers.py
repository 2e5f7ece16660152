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

These are the reference's own forms, the papers' and PyTorch's. Where another
framework's built-in computes another form (Keras's ε̂ and its velocity in units of
steps, decoupled weight decay, hyperparameters rounded to float32), the spec names it
and framework_optimizers.py implements it (docs/model-spec.md#conventions).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from .conventions import FRAMEWORK
from .spec import Optimizer


class UpdateRule(Protocol):
    """What the engine needs of an optimizer: one update of w from g at rate lr."""

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None: ...


class SGD:
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    def __init__(self, spec: Optimizer, w: np.ndarray) -> None:
        self.momentum = spec.momentum
        self.nesterov = spec.nesterov
        self.weight_decay = spec.weight_decay
        self.velocity = np.zeros_like(w) if spec.momentum else None

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None:
        """One update of the parameters w from their gradient g, at learning rate lr."""
        if self.weight_decay:
            g = g + self.weight_decay * w  # g ← g + λ w
        v = self.velocity
        if v is None:
            w -= lr * g  # w ← w − η g
            return
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
        self.weight_decay = spec.weight_decay
        self.m = np.zeros_like(w)
        self.v = np.zeros_like(w)
        self.scratch = np.empty_like(w)
        self.t = 0

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> None:
        """One update of the parameters w from their gradient g, at learning rate lr."""
        self.t += 1
        if self.weight_decay:
            g = g + self.weight_decay * w  # g ← g + λ w
        self.update_moments(g)
        self.descend(w, lr, 1 - self.beta1**self.t, 1 - self.beta2**self.t)

    def update_moments(self, g: np.ndarray) -> None:
        """m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²."""
        m, v, s = self.m, self.v, self.scratch
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=s)
        m += s
        v *= self.beta2
        np.multiply(g, g, out=s)
        s *= 1 - self.beta2
        v += s

    def descend(self, w: np.ndarray, lr: float, correction1: float, correction2: float) -> None:
        """w ← w − η m̂ / (√v̂ + ε), with the corrections 1 − β₁ᵗ and 1 − β₂ᵗ."""
        s = self.scratch
        np.sqrt(self.v, out=s)
        s /= math.sqrt(correction2)
        s += self.eps  # √v̂ + ε
        np.divide(self.m, s, out=s)
        s *= lr / correction1  # η m̂ / (√v̂ + ε)
        w -= s


def make_optimizer(spec: Optimizer, parameters: np.ndarray) -> UpdateRule:
    """The spec's optimizer, with its state shaped like `parameters`, the flat array w of
    every parameter: the forms above, or, where the spec's conventions name another
    framework's form, that form (framework_optimizers.py)."""
    plain = (
        spec.eps_placement in (FRAMEWORK, "sqrt_v_hat")
        and spec.velocity in (FRAMEWORK, "gradient")
        and (not spec.weight_decay or spec.weight_decay_form in (FRAMEWORK, "coupled"))
        and spec.hyperparameter_precision in (FRAMEWORK, "exact")
    )
    if not plain:
        from .framework_optimizers import make_framework_optimizer  # builds on this module

        return make_framework_optimizer(spec, parameters)
    return Adam(spec, parameters) if spec.name == "adam" else SGD(spec, parameters)
