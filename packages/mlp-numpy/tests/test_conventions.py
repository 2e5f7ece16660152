"""The conventions: "framework" resolves to each backend's built-in form, pinned values stay,
only the conventions that change a spec's arithmetic are reported, and each changes it."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mlp_numpy
import mnist_data
from mlp_numpy.conventions import (
    BUILT_INS,
    FIELDS,
    applicable,
    changed_by_float32,
    differences,
    resolve,
)
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.testing import RATES, pinned, relative_difference

NETWORK = Network(layers=(4, 3, 2))


def spec_with(optimizer: Optimizer, dtype: str = "float32") -> ModelSpec:
    return ModelSpec(NETWORK, training=Training(optimizer=optimizer, dtype=dtype))


def test_every_backend_names_every_field():
    for backend, forms in BUILT_INS.items():
        assert tuple(forms) == FIELDS, backend


@pytest.mark.parametrize("backend", list(BUILT_INS))
def test_framework_resolves_to_the_backends_built_in(backend):
    resolved = resolve(spec_with(Optimizer("adam", weight_decay=0.1), "float64"), backend)
    forms = BUILT_INS[backend]
    assert resolved.loss.form == forms["loss.form"]
    assert resolved.training.optimizer.eps_placement == forms["training.optimizer.eps_placement"]
    assert (
        resolved.training.optimizer.weight_decay_form
        == forms["training.optimizer.weight_decay_form"]
    )
    assert resolved.training.optimizer.velocity == "framework"  # velocity is SGD's


def test_a_pinned_convention_is_kept():
    spec = spec_with(Optimizer("sgd", momentum=0.9, velocity="gradient"))
    assert resolve(spec, "tf").training.optimizer.velocity == "gradient"
    assert resolve(spec_with(Optimizer("sgd", momentum=0.9)), "tf").training.optimizer.velocity == (
        "step"
    )


def test_an_unknown_backend_is_named():
    with pytest.raises(ValueError, match="backend: must be one of numpy"):
        resolve(spec_with(Optimizer()), "mxnet")


def test_only_the_conventions_a_spec_uses_apply():
    assert applicable(spec_with(Optimizer("sgd"))) == {"loss.form": "framework"}
    momentum = applicable(spec_with(Optimizer("sgd", momentum=0.9, weight_decay=0.01), "float64"))
    assert set(momentum) == {
        "loss.form",
        "training.optimizer.velocity",
        "training.optimizer.weight_decay_form",
        "training.optimizer.hyperparameter_precision",
    }


def test_float32_precision_changes_what_float32_does_not_hold_exactly():
    assert changed_by_float32(Optimizer("sgd", momentum=0.5)) == {}
    assert changed_by_float32(Optimizer("sgd", momentum=0.9, weight_decay=0.25)) == {
        "momentum": (0.9, 0.8999999761581421)
    }
    assert set(changed_by_float32(Optimizer("adam", weight_decay=1e-3))) == {
        "beta1",
        "beta2",
        "weight_decay",
    }


def test_differences_name_the_forms_of_each_backend():
    adam = spec_with(Optimizer("adam"))
    assert differences(adam, "torch", "tf") == {
        "training.optimizer.eps_placement": ("sqrt_v_hat", "eps_hat")
    }
    assert differences(adam, "numpy", "torch") == {}
    assert differences(spec_with(Optimizer("sgd")), "torch", "tf") == {}


@pytest.mark.parametrize(
    ("optimizer", "lr", "field", "torch_form", "bound"),
    [
        # Measured (tanh, 784-128-64-10, 200 float64 steps of MNIST, the rate changing in four
        # calls), in largest weight difference over largest weight: 6.9e-3, 1.3e-5, 0.22,
        # 2.7e-7, 0.13; with relu, where a step that crosses a kink parts the runs: 0.32,
        # 0.24, 0.30, 3.0e-7, 0.38.
        (Optimizer("adam", eps=1e-7), 0.001, "eps_placement", "sqrt_v_hat", 1e-3),
        # β₂ = 0.999 rounded to float32 moves 1 − β₂, the first steps' correction, by 1.3e-5.
        (Optimizer("adam", eps=1e-7), 0.001, "hyperparameter_precision", "exact", 1e-6),
        (Optimizer("sgd", momentum=0.9), 0.01, "velocity", "gradient", 1e-2),
        # μ = 0.9 against Keras's float32 0.89999998.
        (Optimizer("sgd", momentum=0.9), 0.01, "hyperparameter_precision", "exact", 1e-8),
        (Optimizer("adam", weight_decay=1e-3), 0.001, "weight_decay_form", "coupled", 1e-2),
    ],
)
def test_each_of_kerass_conventions_changes_200_steps_measurably(
    optimizer, lr, field, torch_form, bound
):
    """The reference under Keras's conventions against the same with one convention set to
    PyTorch's form: each is further apart than rounding could explain."""
    images, labels = mnist_data.load("train")
    x, labels = mnist_data.flatten(mnist_data.standardize(images[:12_800])), labels[:12_800]
    spec = ModelSpec(
        Network((784, 128, 64, 10), hidden="tanh"),
        training=Training(dtype="float64", optimizer=optimizer, schedule=Schedule(lr=lr)),
    )
    keras = resolve(spec, "tf")
    runs = []
    for form in (keras, pinned(keras, f"training.optimizer.{field}", torch_form)):
        engine = mlp_numpy.make_engine(form, x, labels, layers=initial_layers(spec))
        order = np.array_split(np.random.default_rng(1).permutation(len(x)), 4)
        with threadpool_limits(limits=1, user_api="blas"):
            for part, factor in zip(order, RATES["changing"], strict=True):
                engine.train_batches(part, 64, lr * factor)
        runs.append(engine.get_layers())
    assert relative_difference(*runs) > bound
