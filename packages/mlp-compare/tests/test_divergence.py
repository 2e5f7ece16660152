"""One divergence rule for every framework (docs/model-spec.md#divergence).

The same spec and the same batches must give the same verdict, at the same epoch and step,
in NumPy, PyTorch and TensorFlow: a step's loss is computed in the training dtype, before
its update, and the first one that is not finite names the step.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import mlp_numpy
import mlp_tf
import mlp_torch
from mlp_compare.data import prepare
from mlp_compare.experiment import load_experiment
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.training import DivergenceError

BACKENDS = {"numpy": mlp_numpy, "torch": mlp_torch, "tf": mlp_tf}


def verdicts(spec: ModelSpec, x, labels) -> dict[str, tuple[int, int]]:
    """Each framework's (epoch, step) of divergence; a framework that finishes fails the test."""
    found = {}
    for name, backend in BACKENDS.items():
        with pytest.raises(DivergenceError) as caught:
            backend.train(spec, x, labels, device="cpu")
        found[name] = (caught.value.epoch, caught.value.step)
    return found


def test_sgd_at_a_huge_rate_diverges_at_the_same_step_in_every_framework() -> None:
    """The quick experiment with plain SGD at lr = 1e6, in float32."""
    experiment = load_experiment("quick")
    spec = experiment.variants[0].spec
    training = replace(
        spec.training, optimizer=Optimizer("sgd"), schedule=Schedule("constant", lr=1e6)
    )
    data = prepare(experiment.data)
    found = verdicts(replace(spec, training=training), *data.train)
    assert len(set(found.values())) == 1, found


def test_a_float64_run_that_grows_without_bound_diverges_at_the_same_step() -> None:
    """Mean squared error on an identity output with too large a rate: every step
    overshoots, the loss grows geometrically and overflows float64 at one step."""
    experiment = load_experiment("quick")
    x, labels = prepare(experiment.data).train
    spec = ModelSpec(
        Network(layers=(784, 16, 10), output="identity"),
        loss=Loss("mse"),
        training=Training(
            batch_size=500,
            epochs=40,
            dtype="float64",
            optimizer=Optimizer("sgd"),
            schedule=Schedule("constant", lr=100.0),
        ),
    )
    found = verdicts(spec, x[:2000], labels[:2000])
    assert len(set(found.values())) == 1, found
    epoch, _ = found["numpy"]
    assert epoch > 1, "the loss should grow for many steps before it overflows float64"
