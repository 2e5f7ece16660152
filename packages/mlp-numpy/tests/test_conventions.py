"""The conventions: "framework" resolves to each backend's built-in form, pinned values stay,
and only the conventions that change a spec's arithmetic are reported."""

from __future__ import annotations

import pytest

from mlp_numpy.conventions import BUILT_INS, FIELDS, applicable, differences, resolve
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Training

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


def test_differences_name_the_forms_of_each_backend():
    adam = spec_with(Optimizer("adam"))
    assert differences(adam, "torch", "tf") == {
        "training.optimizer.eps_placement": ("sqrt_v_hat", "eps_hat")
    }
    assert differences(adam, "numpy", "torch") == {}
    assert differences(spec_with(Optimizer("sgd")), "torch", "tf") == {}
