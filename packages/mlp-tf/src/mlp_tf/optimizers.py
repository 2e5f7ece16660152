"""The spec's optimizer as a Keras optimizer (docs/model-spec.md#optimizer-conventions).

Keras's built-ins, wherever the spec names their conventions:

    sgd   keras.optimizers.SGD(η, momentum=μ, nesterov=…, weight_decay=λ)
          velocity = "step", weight_decay_form = "decoupled"
    adam  keras.optimizers.Adam(η, β₁, β₂, ε), with λ > 0 keras.optimizers.AdamW
          eps_placement = "eps_hat", weight_decay_form = "decoupled"

both with hyperparameter_precision = "float32" in float64 training. Two conventions of
the spec have no Keras built-in or option, and get the one method Keras lets an optimizer
add, `update_step`, on the built-in (its state, casts and decoupled decay unchanged):

    GradientVelocitySGD   velocity = "gradient":  v ← μ v + g;  w ← w − η v
                          (Nesterov w ← w − η (g + μ v))
    PaperAdam             eps_placement = "sqrt_v_hat":  w ← w − η m̂ / (√v̂ + ε)

These two bring μ and β to the variable's dtype as the spec's hyperparameter_precision
says: rounded through float32 as Keras's built-ins do, or exactly.

The others are a `ConventionError` naming the field: coupled weight decay with momentum
or Adam (Keras's `weight_decay` is decoupled only), and hyperparameter_precision =
"exact" in float64 training wherever a Keras built-in would round a hyperparameter to
float32.
"""

import keras
import numpy as np
from keras import ops

from mlp_numpy.conventions import ConventionError
from mlp_numpy.spec import Optimizer


class _SpecHyperparameters:
    """How an `update_step` added here brings a Python-float hyperparameter to the
    variable's dtype: as Keras's built-ins do (`ops.cast`, which rounds through float32 in
    the TensorFlow backend) or, with `exact_hyperparameters`, at that dtype's precision."""

    exact_hyperparameters = False

    def _hyperparameter(self, value, dtype):
        if self.exact_hyperparameters:
            return ops.convert_to_tensor(value, dtype)
        return ops.cast(value, dtype)

    def get_config(self):
        return {**super().get_config(), "exact_hyperparameters": self.exact_hyperparameters}


class GradientVelocitySGD(_SpecHyperparameters, keras.optimizers.SGD):
    """Keras's SGD with the velocity in units of gradients (PyTorch's form):
    v ← μ v + g;  w ← w − η v,  or with Nesterov  w ← w − η (g + μ v)."""

    def __init__(self, *args, exact_hyperparameters: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.exact_hyperparameters = exact_hyperparameters

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        momentum = self._hyperparameter(self.momentum, variable.dtype)
        v = self.momentums[self._get_variable_index(variable)]
        self.assign(v, ops.add(ops.multiply(v, momentum), gradient))  # v ← μ v + g
        step = ops.add(gradient, ops.multiply(v, momentum)) if self.nesterov else v
        self.assign_sub(variable, ops.multiply(step, learning_rate))  # w ← w − η v


class PaperAdam(_SpecHyperparameters, keras.optimizers.Adam):
    """Keras's Adam with ε added after the bias correction (Kingma & Ba, Algorithm 1, and
    PyTorch): w ← w − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)  =  w − η m̂ / (√v̂ + ε)."""

    def __init__(self, *args, exact_hyperparameters: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.exact_hyperparameters = exact_hyperparameters

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        local_step = ops.cast(self.iterations + 1, variable.dtype)
        beta_1_power = ops.power(self._hyperparameter(self.beta_1, variable.dtype), local_step)
        beta_2_power = ops.power(self._hyperparameter(self.beta_2, variable.dtype), local_step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        sqrt_v_hat = ops.divide(ops.sqrt(v), ops.sqrt(1 - beta_2_power))
        step = ops.divide(m, ops.add(sqrt_v_hat, self.epsilon))
        self.assign_sub(variable, ops.multiply(step, lr / (1 - beta_1_power)))


def uses_added_update_step(spec: Optimizer) -> bool:
    """Whether `spec` needs one of the `update_step`s added here (GradientVelocitySGD,
    PaperAdam) instead of Keras's own."""
    if spec.name == "sgd":
        return spec.momentum > 0 and spec.velocity == "gradient"
    return spec.eps_placement == "sqrt_v_hat"


def rounded_by_keras(spec: Optimizer) -> dict[str, float]:
    """The hyperparameters Keras's TensorFlow backend rounds to float32 in float64
    training (it casts a Python float through a float32 tensor): SGD's momentum, Adam's
    β₁ and β₂ in the powers βᵗ, and the weight decay. The `update_step`s added here
    bring them exactly where the spec asks it, so only the weight decay remains there."""
    names = []
    if not uses_added_update_step(spec):
        names = ["momentum"] if spec.name == "sgd" else ["beta1", "beta2"]
    if spec.weight_decay:
        names.append("weight_decay")
    return {name: getattr(spec, name) for name in names}


def check_conventions(spec: Optimizer, dtype: str) -> None:
    """Raise ConventionError, naming the field, for a convention Keras cannot express."""
    field = "training.optimizer"
    momentum_or_adam = spec.name == "adam" or spec.momentum > 0
    if spec.weight_decay and spec.weight_decay_form == "coupled" and momentum_or_adam:
        raise ConventionError(
            f"{field}.weight_decay_form: Keras's weight_decay is decoupled "
            '(w ← w − η λ w before the update); "coupled" has no Keras built-in here: '
            'set weight_decay_form = "decoupled"'
        )
    if dtype == "float64" and spec.hyperparameter_precision == "exact":
        for name, value in rounded_by_keras(spec).items():
            if float(np.float32(value)) != value:
                raise ConventionError(
                    f"{field}.hyperparameter_precision: in float64 training Keras's "
                    f"TensorFlow backend rounds {name} = {value!r} to float32 "
                    f'({float(np.float32(value))!r}); set hyperparameter_precision = "float32"'
                )


def make_optimizer(spec: Optimizer, dtype: str) -> keras.optimizers.Optimizer:
    """The Keras optimizer of `spec` for training in `dtype`, at learning rate 0 until the
    engine sets the epoch's rate (`optimizer.learning_rate = η`, as Keras's
    `LearningRateScheduler` does). Keras makes the rate a variable of
    `keras.config.floatx()`: call this with floatx set to the training dtype, so that a
    float64 run's rate is not rounded to float32.

    Raises ConventionError for a convention Keras cannot express (module docstring).
    """
    check_conventions(spec, dtype)
    decay = spec.weight_decay or None  # Keras: None is no decay
    exact = spec.hyperparameter_precision == "exact"
    if spec.name == "sgd":
        options = dict(momentum=spec.momentum, nesterov=spec.nesterov, weight_decay=decay)
        if uses_added_update_step(spec):
            return GradientVelocitySGD(0.0, exact_hyperparameters=exact, **options)
        return keras.optimizers.SGD(0.0, **options)
    options = dict(beta_1=spec.beta1, beta_2=spec.beta2, epsilon=spec.eps, weight_decay=decay)
    if uses_added_update_step(spec):
        return PaperAdam(0.0, exact_hyperparameters=exact, **options)
    return (keras.optimizers.AdamW if decay else keras.optimizers.Adam)(0.0, **options)
