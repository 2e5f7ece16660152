"""The spec's optimizer as Keras's own optimizer (docs/model-spec.md#conventions).

    sgd   keras.optimizers.SGD(η, momentum=μ, nesterov=…, weight_decay=λ)
    adam  keras.optimizers.Adam(η, β₁, β₂, ε), with λ > 0 keras.optimizers.AdamW

These are Keras's built-ins, in the spec's conventions: ε added to √v before the bias
correction ("eps_hat"), the velocity in units of steps ("step"), decoupled weight decay,
and, in float64 training, μ, λ and the β inside βᵗ rounded to float32 ("float32": the
TensorFlow backend casts a Python float through a float32 tensor). A spec that pins a
convention Keras has no built-in for gets `ConventionError`, naming the field: ε added to
√v̂ (PyTorch's), the velocity in units of gradients, coupled weight decay with momentum or
Adam, and exact hyperparameters in float64 training where Keras would round one.
"""

import keras

from mlp_numpy.conventions import ConventionError, changed_by_float32
from mlp_numpy.spec import Optimizer


def check_conventions(spec: Optimizer, dtype: str) -> None:
    """Raise ConventionError, naming the field, for a convention Keras has no built-in for,
    in training of `dtype`."""
    field = "training.optimizer"
    if spec.name == "adam" and spec.eps_placement == "sqrt_v_hat":
        raise ConventionError(
            f"{field}.eps_placement: keras.optimizers.Adam adds ε to √v before the bias "
            "correction (ε̂); \"sqrt_v_hat\" (PyTorch's, the paper's algorithm 1) has no Keras "
            "built-in"
        )
    if spec.name == "sgd" and spec.momentum > 0 and spec.velocity == "gradient":
        raise ConventionError(
            f"{field}.velocity: keras.optimizers.SGD keeps the velocity in units of steps "
            '(v ← μ v − η g); "gradient" (PyTorch\'s) has no Keras built-in'
        )
    momentum_or_adam = spec.name == "adam" or spec.momentum > 0
    if spec.weight_decay and spec.weight_decay_form == "coupled" and momentum_or_adam:
        raise ConventionError(
            f"{field}.weight_decay_form: Keras's weight_decay is decoupled "
            '(w ← w − η λ w before the update); "coupled" has no Keras built-in here'
        )
    rounded = changed_by_float32(spec)
    if dtype == "float64" and spec.hyperparameter_precision == "exact" and rounded:
        name, (exact, float32) = next(iter(rounded.items()))
        raise ConventionError(
            f"{field}.hyperparameter_precision: in float64 training Keras's TensorFlow "
            f'backend rounds {name} = {exact!r} to float32 ({float32!r}); "exact" has no '
            "Keras built-in"
        )


def make_optimizer(spec: Optimizer, parameters: list) -> keras.optimizers.Optimizer:
    """Keras's SGD, Adam or AdamW for the spec, built over `parameters` (the model's
    trainable variables), at learning rate 0
    until the engine sets the epoch's rate (`optimizer.learning_rate = η`, as Keras's
    `LearningRateScheduler` does). Keras makes the rate a variable of
    `keras.config.floatx()`: call this with floatx set to the training dtype, so that a
    float64 run's rate is not rounded to float32.

    Raises ConventionError for a convention Keras has no built-in for (module docstring).
    """
    check_conventions(spec, parameters[0].dtype)
    decay = spec.weight_decay or None  # Keras: None is no decay
    if spec.name == "sgd":
        optimizer = keras.optimizers.SGD(
            0.0, momentum=spec.momentum, nesterov=spec.nesterov, weight_decay=decay
        )
    else:
        adam = keras.optimizers.AdamW if decay else keras.optimizers.Adam
        optimizer = adam(
            0.0, beta_1=spec.beta1, beta_2=spec.beta2, epsilon=spec.eps, weight_decay=decay
        )
    optimizer.build(parameters)
    return optimizer
