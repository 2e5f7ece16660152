"""Backprop's gradient equals the finite-difference derivative of the loss, for every
hidden activation × output/loss × reduction × bias combination the spec allows, for
classifiers, binary classifiers and regression networks."""

import itertools

import numpy as np
import pytest

from mlp_numpy.gradcheck import check_gradients
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import HIDDEN_ACTIVATIONS, Init, Loss, ModelSpec, Network, Training

LOSS_OUTPUTS = [
    ("cross_entropy", "softmax"),
    ("mse", "softmax"),
    ("mse", "sigmoid"),
    ("mse", "identity"),
    ("bce", "sigmoid"),
]
COMBINATIONS = [
    (hidden, loss, output, reduction, bias)
    for hidden, (loss, output), reduction, bias in itertools.product(
        HIDDEN_ACTIVATIONS, LOSS_OUTPUTS, ("mean", "sum_outputs"), (True, False)
    )
]


@pytest.mark.parametrize(("hidden", "loss", "output", "reduction", "bias"), COMBINATIONS)
def test_backprop_matches_finite_differences(hidden, loss, output, reduction, bias):
    spec = ModelSpec(
        Network(layers=(5, 4, 3, 3), hidden=hidden, output=output, bias=bias, leaky_slope=0.1),
        Loss(loss, reduction),
        Init("xavier_uniform", bias="like_weights"),
        Training(dtype="float64", seed=3),
    )
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 5))
    labels = rng.integers(0, 3, size=6)
    result = check_gradients(spec.network, spec.loss, initial_layers(spec), x, labels)
    assert len(result.errors) == (6 if bias else 3)
    assert result.max_error < 1e-7, result.errors


# Binary (one sigmoid output, 0/1 labels) and regression (identity outputs, real targets,
# one output with 1-D targets and two with 2-D ones): the task decides the targets y.
TASK_CASES = [
    (task, hidden, loss, outputs, reduction, bias)
    for task, loss, outputs in (
        ("binary", "bce", 1),
        ("binary", "mse", 1),
        ("regression", "mse", 1),
        ("regression", "mse", 2),
    )
    for hidden in HIDDEN_ACTIVATIONS
    for reduction in ("mean", "sum_outputs")
    for bias in (True, False)
]


@pytest.mark.parametrize(("task", "hidden", "loss", "outputs", "reduction", "bias"), TASK_CASES)
def test_binary_and_regression_gradients_match_finite_differences(
    task, hidden, loss, outputs, reduction, bias
):
    output = "sigmoid" if task == "binary" else "identity"
    spec = ModelSpec(
        Network((5, 4, 3, outputs), hidden, output, bias, leaky_slope=0.1, task=task),
        Loss(loss, reduction),
        Init("xavier_uniform", bias="like_weights"),
        Training(dtype="float64", seed=4),
    )
    rng = np.random.default_rng(8)
    x = rng.normal(size=(6, 5))
    if task == "binary":
        labels = np.array([0, 1, 1, 0, 1, 0])
    else:
        labels = rng.normal(scale=2.0, size=6 if outputs == 1 else (6, outputs))
    result = check_gradients(spec.network, spec.loss, initial_layers(spec), x, labels)
    assert len(result.errors) == (6 if bias else 3)
    assert result.max_error < 1e-7, result.errors


def test_check_detects_a_wrong_gradient(monkeypatch):
    """The check can fail: a derivative off by a factor of two is caught."""
    from mlp_numpy import activations

    def doubled(self, h, delta):
        delta *= 2 * (1 - h * h)

    monkeypatch.setattr(activations.Tanh, "backward", doubled)
    spec = ModelSpec(Network(layers=(4, 3, 2), hidden="tanh"), training=Training(dtype="float64"))
    rng = np.random.default_rng(0)
    result = check_gradients(
        spec.network, spec.loss, initial_layers(spec), rng.normal(size=(5, 4)), np.arange(5) % 2
    )
    assert result.errors["layers.0.weight"] > 0.1
