"""Each framework's defaults as spec fields (docs/model-spec.md#framework-defaults).

A network written the way a framework's tutorial writes it (`nn.Linear` layers,
`CrossEntropyLoss`, `torch.optim.Adam(params, lr)`, a shuffling `DataLoader`; or a Keras
`Sequential` of `Dense` layers ending in a softmax, `CategoricalCrossentropy()`,
`keras.optimizers.Adam(lr)`, `model.fit(shuffle=True)`; or, as the Flax NNX MNIST tutorial,
`nnx.Linear` layers built with `nnx.Rngs(0)`, `optax.softmax_cross_entropy_with_integer_labels`,
`nnx.Optimizer(model, optax.adamw(learning_rate, momentum))`) trains with that framework's
defaults.
`DEFAULTS[framework]` names each of them as the spec field that reproduces it, so the
reference can train with either framework's set, and one default can be switched at a time:

    default            spec field                   PyTorch         Keras (TF)      Flax (Optax)
    initialization     init.scheme, init.bias       fan_in_uniform, xavier_uniform, lecun_normal,
                                                    like_weights    zeros           zeros
    Adam ε             optimizer.eps                1e-8            1e-7            1e-8
    ε placement        optimizer.eps_placement      sqrt_v_hat      eps_hat         sqrt_v_hat
    Adam weight decay  optimizer.weight_decay       (the spec's)    (the spec's)    1e-4
    weight decay       optimizer.weight_decay_form  coupled         decoupled       decoupled
    hyperparameters    optimizer.hyperparameter_precision
                                                    exact           float32         exact
    SGD momentum       optimizer.velocity           gradient        step            gradient
    cross-entropy      loss.form                    logits          logits (below)  logits
    data order         training.batch_order         framework       framework       framework
    TF32 on GPUs       training.tf32                false           true            true

(`optimizer.` is `training.optimizer.`.) Flax's Adam weight decay is `optax.adamw`'s
default `weight_decay=1e-4`, which the Flax tutorial's `optax.adamw(learning_rate,
momentum)` applies without naming it; JAX computes float32 matrix products on recent
NVIDIA GPUs in TensorFloat-32 unless told otherwise (`jax.default_matmul_precision`).

`init.draw = "framework"` and `batch_order = "framework"` let each framework draw its own
initial weights and shuffle with its own generator, as its tutorial does; the reference's
`"reference"`/`"shared"` values draw the same numbers for every framework.

Keras documents `from_logits=False` as the cross-entropy of probabilities clipped to
[1e-7, 1 − 1e-7] (`loss.form = "clipped_probabilities"`), and its JAX and PyTorch backends
compute that; its TensorFlow backend instead takes the logits back from a softmax output
(`_get_logits` in keras/src/backend/tensorflow/nn.py), so the tutorial's softmax layer with
`CategoricalCrossentropy()` trains from the logits there. `KERAS_DOCUMENTED` holds the
documented value for the ablation.
"""

from __future__ import annotations

import copy
from typing import Any

from .spec import ModelSpec

FRAMEWORKS = ("torch", "keras", "flax")

DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "torch": {
        "init": {"scheme": "fan_in_uniform", "bias": "like_weights"},
        "loss": {"form": "logits"},
        "training": {
            "batch_order": "framework",
            "tf32": False,
            "optimizer": {
                "eps": 1e-8,
                "eps_placement": "sqrt_v_hat",
                "velocity": "gradient",
                "weight_decay_form": "coupled",
                "hyperparameter_precision": "exact",
            },
        },
    },
    "keras": {
        "init": {"scheme": "xavier_uniform", "bias": "zeros"},
        "loss": {"form": "logits"},
        "training": {
            "batch_order": "framework",
            "tf32": True,
            "optimizer": {
                "eps": 1e-7,
                "eps_placement": "eps_hat",
                "velocity": "step",
                "weight_decay_form": "decoupled",
                "hyperparameter_precision": "float32",
            },
        },
    },
    "flax": {
        "init": {"scheme": "lecun_normal", "bias": "zeros"},
        "loss": {"form": "logits"},
        "training": {
            "batch_order": "framework",
            "tf32": True,
            "optimizer": {
                "eps": 1e-8,
                "eps_placement": "sqrt_v_hat",
                "weight_decay": 1e-4,  # optax.adamw's default: Adam only
                "velocity": "gradient",
                "weight_decay_form": "decoupled",
                "hyperparameter_precision": "exact",
            },
        },
    },
}

# The cross-entropy Keras documents for from_logits=False (and computes on JAX and PyTorch).
KERAS_DOCUMENTED = {"loss": {"form": "clipped_probabilities"}}

# The rows of the defaults table (`mlp-compare defaults`): key -> (the default, the spec
# fields that set it). A backend's `installed_defaults()` reads each key from its installed
# framework (mlp_numpy.backends.Backend), to stand beside `default_value`.
ROWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "init": ("initialization", ("init.scheme", "init.bias")),
    "eps": ("Adam ε", ("training.optimizer.eps",)),
    "eps_placement": ("Adam ε placement", ("training.optimizer.eps_placement",)),
    "weight_decay_form": ("weight decay", ("training.optimizer.weight_decay_form",)),
    "velocity": ("SGD momentum form", ("training.optimizer.velocity",)),
    "hyperparameter_precision": (
        "hyperparameters in float64",
        ("training.optimizer.hyperparameter_precision",),
    ),
    "loss_form": ("cross-entropy form", ("loss.form",)),
    "batch_order": ("data order", ("training.batch_order",)),
    "tf32": ("TF32 on GPUs", ("training.tf32",)),
}


def default_value(framework: str, field: str) -> Any:
    """The value `DEFAULTS[framework]` gives the dotted spec `field`."""
    value: Any = DEFAULTS[framework]
    for part in field.split("."):
        value = value[part]
    return value


def with_defaults(spec: ModelSpec, framework: str, *, draw: str | None = None) -> ModelSpec:
    """`spec` with every default of `framework` ("torch", "keras" or "flax") set.

    Fields that do not apply to the spec are left out: the Adam fields (ε, its placement,
    Flax's AdamW weight decay) for SGD, the momentum form for Adam. `draw`, when given,
    sets `init.draw`.
    """
    if framework not in DEFAULTS:
        raise ValueError(f"framework: must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    data = spec.to_dict()
    overrides = copy.deepcopy(DEFAULTS[framework])
    optimizer = overrides["training"]["optimizer"]
    if spec.training.optimizer.name == "adam":
        del optimizer["velocity"]
    else:
        for name in ("eps", "eps_placement", "weight_decay"):
            optimizer.pop(name, None)
        if not spec.training.optimizer.momentum:
            del optimizer["velocity"]
    if spec.loss.name != "cross_entropy":
        del overrides["loss"]
    if draw is not None:
        overrides["init"]["draw"] = draw
    return ModelSpec.from_dict(merge(data, overrides))


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Nested tables `base` with `overrides` written over them (in place; returned)."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base
