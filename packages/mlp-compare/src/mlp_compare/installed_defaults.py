"""The frameworks' defaults as the installed PyTorch and Keras define them, beside the spec
values that reproduce them (`mlp_numpy.defaults.DEFAULTS`), for `mlp-compare defaults`.

Each value is read from the installed framework where it exposes one (a default argument, an
attribute, a process setting) or measured (nn.Linear's init bound), so a new framework version
that changes a default shows up here; `source` says how. Where the default is a formula in the
framework's code rather than a value, `installed` names it and `source` says where it is.
A framework that is not installed has `installed: null`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from mlp_numpy.defaults import DEFAULTS, KERAS_DOCUMENTED


def _read(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except ImportError:
        return None


def _torch() -> dict[str, Any]:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader

    torch_state = torch.random.get_rng_state()
    torch.manual_seed(0)
    linear = nn.Linear(400, 300)
    torch.random.set_rng_state(torch_state)
    bound = float(linear.weight.detach().abs().max()) * math.sqrt(400)
    bias_bound = float(linear.bias.detach().abs().max()) * math.sqrt(400)
    adam = inspect.signature(torch.optim.Adam).parameters
    return {
        "version": torch.__version__,
        "init": f"W max|w|·√fan_in = {bound:.3f}, b max|b|·√fan_in = {bias_bound:.3f}",
        "eps": adam["eps"].default,
        "weight_decay": adam["weight_decay"].default,
        "shuffle": inspect.signature(DataLoader).parameters["shuffle"].default,
        "tf32": bool(torch.backends.cuda.matmul.allow_tf32),
    }


def _keras() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    dense = inspect.signature(keras.layers.Dense).parameters
    categorical = inspect.signature(keras.losses.CategoricalCrossentropy).parameters
    return {
        "version": keras.__version__,
        "backend": keras.backend.backend(),
        "init": f"kernel {dense['kernel_initializer'].default}, bias "
        f"{dense['bias_initializer'].default}",
        "eps": keras.optimizers.Adam().epsilon,
        "weight_decay": keras.optimizers.Adam().weight_decay,
        "from_logits": categorical["from_logits"].default,
        "clip": keras.config.epsilon(),
        "shuffle": inspect.signature(keras.Model.fit).parameters["shuffle"].default,
        "tf32": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
    }


def installed_defaults() -> dict[str, Any]:
    """The table: `versions`, and `defaults`, one row per default with, for "torch" and
    "keras", the `installed` value, the `spec` value reproducing it and the `source`."""
    torch = _read(_torch)
    keras = _read(_keras)
    t, k = DEFAULTS["torch"], DEFAULTS["keras"]
    to, ko = t["training"]["optimizer"], k["training"]["optimizer"]

    def get(framework: dict[str, Any] | None, key: str) -> Any:
        return None if framework is None else framework[key]

    def row(default: str, field: str, torch_side: tuple, keras_side: tuple) -> dict[str, Any]:
        sides = {}
        for name, (installed, spec, source) in (("torch", torch_side), ("keras", keras_side)):
            sides[name] = {"installed": installed, "spec": spec, "source": source}
        return {"default": default, "field": field, **sides}

    rows = [
        row(
            "initialization",
            "init.scheme, init.bias",
            (
                get(torch, "init"),
                f"{t['init']['scheme']}, {t['init']['bias']}",
                "measured: torch.nn.Linear(400, 300) after torch.manual_seed(0); "
                "1/√fan_in gives 1.000",
            ),
            (
                get(keras, "init"),
                f"{k['init']['scheme']}, {k['init']['bias']}",
                "inspect.signature(keras.layers.Dense) kernel_initializer, bias_initializer",
            ),
        ),
        row(
            "Adam ε",
            "training.optimizer.eps",
            (get(torch, "eps"), to["eps"], "inspect.signature(torch.optim.Adam) eps"),
            (get(keras, "eps"), ko["eps"], "keras.optimizers.Adam().epsilon"),
        ),
        row(
            "Adam ε placement",
            "training.optimizer.eps_placement",
            ("η m̂/(√v̂ + ε)", to["eps_placement"], "the formula in torch/optim/adam.py"),
            ("η_t m/(√v + ε)", ko["eps_placement"], "the formula in keras/src/optimizers/adam.py"),
        ),
        row(
            "weight decay",
            "training.optimizer.weight_decay_form",
            (
                get(torch, "weight_decay"),
                to["weight_decay_form"],
                "inspect.signature(torch.optim.Adam) weight_decay (coupled: g + λw)",
            ),
            (
                get(keras, "weight_decay"),
                ko["weight_decay_form"],
                "keras.optimizers.Adam().weight_decay (decoupled when set)",
            ),
        ),
        row(
            "SGD momentum form",
            "training.optimizer.velocity",
            ("v ← μv + g", to["velocity"], "the formula in torch/optim/sgd.py"),
            ("v ← μv − ηg", ko["velocity"], "the formula in keras/src/optimizers/sgd.py"),
        ),
        row(
            "hyperparameters in float64",
            "training.optimizer.hyperparameter_precision",
            ("Python floats", to["hyperparameter_precision"], "torch.optim"),
            (
                "cast through float32",
                ko["hyperparameter_precision"],
                "ops.cast of a Python float in Keras's TensorFlow backend",
            ),
        ),
        row(
            "cross-entropy form",
            "loss.form",
            ("from logits", t["loss"]["form"], "torch.nn.CrossEntropyLoss takes logits"),
            (
                None
                if keras is None
                else f"from_logits={keras['from_logits']}, clip ε = {keras['clip']}; on the "
                f"{keras['backend']} backend a softmax output's logits are used",
                f"{k['loss']['form']} (documented: {KERAS_DOCUMENTED['loss']['form']})",
                "inspect.signature(keras.losses.CategoricalCrossentropy) from_logits; "
                "keras.config.epsilon(); _get_logits in keras/src/backend/tensorflow/nn.py",
            ),
        ),
        row(
            "data order",
            "training.batch_order",
            (
                None if torch is None else f"DataLoader shuffle={torch['shuffle']}",
                t["training"]["batch_order"],
                "inspect.signature(DataLoader) shuffle; tutorials pass shuffle=True",
            ),
            (
                None if keras is None else f"fit shuffle={keras['shuffle']}",
                k["training"]["batch_order"],
                "inspect.signature(keras.Model.fit) shuffle",
            ),
        ),
        row(
            "TF32 on GPUs",
            "training.tf32",
            (
                get(torch, "tf32"),
                t["training"]["tf32"],
                "torch.backends.cuda.matmul.allow_tf32",
            ),
            (
                get(keras, "tf32"),
                k["training"]["tf32"],
                "tf.config.experimental.tensor_float_32_execution_enabled()",
            ),
        ),
    ]
    return {
        "versions": {"torch": get(torch, "version"), "keras": get(keras, "version")},
        "defaults": rows,
    }
