"""Where frameworks' built-ins differ, and what each framework's built-in computes
(docs/model-spec.md#conventions).

The same spec trains the same network in every backend, but frameworks' built-in
optimizers and losses are not all one formula: Keras's Adam adds ε before the bias
correction (ε̂), its SGD keeps the velocity in units of steps, and so on. Each such
difference is a spec field, a *convention*, whose default is "framework": every backend
then trains with its framework's built-in as it is, and `BUILT_INS` says which form that
is. Any other value pins one form; a backend whose framework has no built-in for it
raises `ConventionError`, and the run is reported "not run: <field>: <why>".

The reference implements every form, so each framework is proven equal to the
reference under its own conventions:

    reference = mlp_numpy.make_engine(resolve(spec, "tf"), x, labels)   # Keras's forms
    framework = mlp_tf.make_engine(spec, x, labels)                     # Keras's built-ins
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .spec import ModelSpec, Optimizer, SpecError

FRAMEWORK = "framework"

# The convention fields, by dotted name (docs/model-spec.md#optimizer-conventions,
# docs/model-spec.md#loss-forms).
FIELDS = (
    "loss.form",
    "training.optimizer.eps_placement",
    "training.optimizer.velocity",
    "training.optimizer.weight_decay_form",
    "training.optimizer.hyperparameter_precision",
)

# backend -> convention field -> the form its framework's built-ins compute.
BUILT_INS: dict[str, dict[str, str]] = {
    # The reference's own: the plain formulas of losses.py and optimizers.py.
    "numpy": {
        "loss.form": "logits",
        "training.optimizer.eps_placement": "sqrt_v_hat",
        "training.optimizer.velocity": "gradient",
        "training.optimizer.weight_decay_form": "coupled",
        "training.optimizer.hyperparameter_precision": "exact",
    },
    # torch.nn.functional's losses from the logits; torch.optim.SGD and Adam.
    "torch": {
        "loss.form": "logits",
        "training.optimizer.eps_placement": "sqrt_v_hat",
        "training.optimizer.velocity": "gradient",
        "training.optimizer.weight_decay_form": "coupled",
        "training.optimizer.hyperparameter_precision": "exact",
    },
    # keras.losses with from_logits=True; keras.optimizers.SGD, Adam and AdamW on the
    # TensorFlow backend, which rounds some hyperparameters to float32.
    "tf": {
        "loss.form": "logits",
        "training.optimizer.eps_placement": "eps_hat",
        "training.optimizer.velocity": "step",
        "training.optimizer.weight_decay_form": "decoupled",
        "training.optimizer.hyperparameter_precision": "float32",
    },
    # Optax 0.2.8's losses and optimizers, read in its source (mlp-jax's tests check each
    # against the reference in float64 to 1e-10):
    #   loss.form: softmax_cross_entropy(_with_integer_labels) and sigmoid_binary_cross_entropy
    #     take logits; Optax has no loss on probabilities.
    #   eps_placement: scale_by_adam returns m̂ / (√(v̂ + eps_root) + ε) with eps_root = 0.
    #   velocity: optax.sgd's trace accumulates gradients, v ← g + μ v.
    #   weight_decay_form: optax.adamw is chain(scale_by_adam, add_decayed_weights(λ),
    #     scale_by_learning_rate), −η (m̂ / (√v̂ + ε) + λ w); optax.adam and optax.sgd take
    #     no weight decay (mlp-jax chains add_decayed_weights after SGD's trace the same way).
    #   hyperparameter_precision: every hyperparameter enters in the parameters' dtype
    #     (optax.inject_hyperparams casts them to it), and the bias correction 1 − βᵗ is
    #     computed in β's dtype, then cast to the moment's: float64 in float64 training.
    "jax": {
        "loss.form": "logits",
        "training.optimizer.eps_placement": "sqrt_v_hat",
        "training.optimizer.velocity": "gradient",
        "training.optimizer.weight_decay_form": "decoupled",
        "training.optimizer.hyperparameter_precision": "exact",
    },
}


# backend -> the network tasks (docs/model-spec.md#tasks) its engine trains. `resolve`
# refuses the others with a ConventionError naming `network.task`, so that a backend
# says it cannot rather than misreading binary labels or regression targets.
TASKS: dict[str, tuple[str, ...]] = {
    "numpy": ("classification", "binary", "regression"),
    "torch": ("classification", "binary", "regression"),
    "tf": ("classification", "binary", "regression"),
    "jax": ("classification", "binary", "regression"),
}


class ConventionError(SpecError):
    """The spec pins a convention the backend's framework has no built-in for. The message
    is "<dotted field>: <why>", as every `SpecError`'s."""


def _settable(spec: ModelSpec) -> tuple[str, ...]:
    """The fields a value other than "framework" is valid for in `spec`: eps_placement
    belongs to Adam, velocity to SGD."""
    optimizer = spec.training.optimizer.name
    return tuple(
        name
        for name in FIELDS
        if not (name.endswith("eps_placement") and optimizer != "adam")
        and not (name.endswith("velocity") and optimizer != "sgd")
    )


def resolve(spec: ModelSpec, backend: str) -> ModelSpec:
    """`spec` with every "framework" convention replaced by `backend`'s built-in form;
    pinned conventions are kept. A task the backend does not train (`TASKS`) is a
    `ConventionError`."""
    if backend not in BUILT_INS:
        raise ValueError(f"backend: must be one of {', '.join(BUILT_INS)}, got {backend!r}")
    task = spec.network.task
    if task not in TASKS[backend]:
        raise ConventionError(
            f'network.task: the {backend} backend does not train "{task}" networks yet '
            f"(it trains {', '.join(TASKS[backend])}); mlp-numpy trains every task"
        )
    built_in = BUILT_INS[backend]
    loss, optimizer = spec.loss, spec.training.optimizer
    changes: dict[str, Any] = {}
    for name in _settable(spec):
        if _value(spec, name) == FRAMEWORK:
            changes[name] = built_in[name]
    if "loss.form" in changes:
        loss = replace(loss, form=changes.pop("loss.form"))
    optimizer = replace(
        optimizer, **{name.rsplit(".", 1)[1]: value for name, value in changes.items()}
    )
    return replace(spec, loss=loss, training=replace(spec.training, optimizer=optimizer))


def applicable(spec: ModelSpec) -> dict[str, str]:
    """The conventions that change what `spec` computes, with their values: ε's placement
    for Adam, the velocity's form for SGD with momentum, the weight decay's form when
    there is weight decay, the hyperparameters' precision in float64 training, and the
    loss's form for cross-entropy and binary cross-entropy."""
    optimizer = spec.training.optimizer
    matters = {
        "loss.form": spec.loss.name in ("cross_entropy", "bce"),
        "training.optimizer.eps_placement": optimizer.name == "adam",
        "training.optimizer.velocity": optimizer.name == "sgd" and optimizer.momentum > 0,
        "training.optimizer.weight_decay_form": optimizer.weight_decay > 0,
        "training.optimizer.hyperparameter_precision": spec.training.dtype == "float64",
    }
    return {name: _value(spec, name) for name in FIELDS if matters[name]}


def differences(spec: ModelSpec, a: str, b: str) -> dict[str, tuple[str, str]]:
    """The conventions that change what `spec` computes and in which backends `a` and `b`
    train differently: field -> (a's form, b's form)."""
    forms_a, forms_b = applicable(resolve(spec, a)), applicable(resolve(spec, b))
    return {
        name: (forms_a[name], forms_b[name]) for name in forms_a if forms_a[name] != forms_b[name]
    }


def changed_by_float32(optimizer: Optimizer) -> dict[str, tuple[float, float]]:
    """The hyperparameters that `hyperparameter_precision = "float32"` rounds (SGD's
    momentum, Adam's β₁ and β₂ inside the powers βᵗ, the weight decay) and whose float32
    value is not the exact one: name -> (exact, float32). Empty when the two precisions
    compute the same update."""
    names = ["momentum"] if optimizer.name == "sgd" else ["beta1", "beta2"]
    values = {name: float(getattr(optimizer, name)) for name in [*names, "weight_decay"]}
    rounded = {name: float(np.float32(value)) for name, value in values.items()}
    return {name: (values[name], rounded[name]) for name in values if rounded[name] != values[name]}


def _value(spec: ModelSpec, name: str) -> str:
    """The value of the convention field `name` in `spec`."""
    if name == "loss.form":
        return spec.loss.form
    return getattr(spec.training.optimizer, name.rsplit(".", 1)[1])
