"""The reference's optimizers as in-graph updates of `tf.Variable`s.

Keras' optimizers are not used: its Adam places ε differently (ε̂ = ε √(1 − β₂ᵗ)). With `g` the
gradient, `η` the rate and `λ` the weight decay (coupled L2, first `g ← g + λ w`):

    sgd        w ← w − η g
    momentum   v ← μ v + g,                      w ← w − η v
    nesterov   v ← μ v + g,                      w ← w − η (g + μ v)
    adam       m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
               w ← w − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)

Adam is computed as the reference (and PyTorch) computes it, with the corrections folded
into two scalars per step, w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε). Those scalars
depend on the step count t: they are computed on the host in float64 (`step_scalars`) and
passed in, since 1 − β₂ᵗ evaluated in float32 loses about four digits.
"""

import numpy as np
import tensorflow as tf

from mlp_numpy.spec import Optimizer as OptimizerSpec


def step_scalars(spec: OptimizerSpec, lr: float, first_step: int, steps: int) -> np.ndarray:
    """(steps, 2) float64 array, one row per step t = first_step … first_step + steps − 1.

    Adam: (η / (1 − β₁ᵗ), √(1 − β₂ᵗ)); the other optimizers: (η, 1).
    """
    if spec.name != "adam":
        return np.tile([lr, 1.0], (steps, 1))
    t = np.arange(first_step, first_step + steps, dtype=np.float64)
    return np.stack([lr / (1.0 - spec.beta1**t), np.sqrt(1.0 - spec.beta2**t)], axis=1)


class Optimizer:
    """One optimizer's state (velocities or moments) for a list of variables, and its update."""

    def __init__(self, spec: OptimizerSpec, variables: list[tf.Variable]) -> None:
        self.spec = spec
        self.variables = variables
        dtype = variables[0].dtype
        self._cast = lambda value: tf.constant(value, dtype)

        def zeros(name: str) -> list[tf.Variable]:
            return [tf.Variable(tf.zeros_like(v), trainable=False, name=name) for v in variables]

        uses_velocity = spec.name == "sgd" and spec.momentum > 0
        self.velocity = zeros("velocity") if uses_velocity else []
        self.first_moment = zeros("m") if spec.name == "adam" else []
        self.second_moment = zeros("v") if spec.name == "adam" else []

    def reset(self) -> None:
        """Zero every velocity and moment."""
        for state in (*self.velocity, *self.first_moment, *self.second_moment):
            state.assign(tf.zeros_like(state))

    def apply(self, grads: list[tf.Tensor], scalars: tf.Tensor) -> None:
        """One update of every variable; `scalars` is this step's row of `step_scalars`."""
        spec = self.spec
        step_size, root_correction2 = scalars[0], scalars[1]
        for i, (w, g) in enumerate(zip(self.variables, grads, strict=True)):
            if spec.weight_decay:
                g = g + w * self._cast(spec.weight_decay)
            if spec.name == "adam":
                m, v = self.first_moment[i], self.second_moment[i]
                m.assign(m * self._cast(spec.beta1) + g * self._cast(1.0 - spec.beta1))
                v.assign(v * self._cast(spec.beta2) + (g * g) * self._cast(1.0 - spec.beta2))
                denominator = tf.sqrt(v) / root_correction2 + self._cast(spec.eps)  # √v̂ + ε
                w.assign_sub(m / denominator * step_size)
            elif self.velocity:
                mu = self._cast(spec.momentum)
                v = self.velocity[i]
                v.assign(v * mu + g)
                w.assign_sub((g + mu * v) * step_size if spec.nesterov else v * step_size)
            else:
                w.assign_sub(g * step_size)
