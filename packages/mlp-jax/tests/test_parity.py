"""mlp-jax is the reference network under Optax's conventions: same outputs, same steps,
same weights.

Both backends start from one weight file and train on the same batches of real MNIST, JAX
with `nnx.value_and_grad`, Optax's losses and `nnx.Optimizer` over Optax's optimizers,
mlp-numpy with the spec's formulas written out in the forms Optax computes
(`mlp_numpy.make_engine(resolve(spec, "jax"), ...)`); any difference left is
floating-point rounding, which these tolerances bound.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlp_jax
import mlp_numpy
from mlp_numpy.batches import epoch_batches
from mlp_numpy.conventions import resolve
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.weights import load_weights, save_weights

NETWORK = Network(layers=(784, 128, 64, 10))
STEPS, BATCH = 200, 64
EPS32 = float(np.finfo(np.float32).eps)

# Every optimizer configuration, with its learning rate; "framework" weight decay is
# decoupled (optax.adamw, and SGD's momentum chained the same way), the others pinned.
OPTIMIZERS = {
    "sgd": (Optimizer(name="sgd"), 0.1),
    "momentum": (Optimizer(name="sgd", momentum=0.9), 0.02),
    "nesterov": (Optimizer(name="sgd", momentum=0.9, nesterov=True), 0.02),
    "adam": (Optimizer(name="adam"), 0.001),
    "adamw": (Optimizer(name="adam", weight_decay=0.01), 0.001),
}
WEIGHT_DECAY_FORMS = {
    "momentum, decoupled decay": (Optimizer(name="sgd", momentum=0.9, weight_decay=0.01), 0.02),
    "nesterov, coupled decay": (
        Optimizer(
            name="sgd", momentum=0.9, nesterov=True, weight_decay=0.01, weight_decay_form="coupled"
        ),
        0.02,
    ),
    "adam, coupled decay": (
        Optimizer(name="adam", weight_decay=0.01, weight_decay_form="coupled"),
        0.001,
    ),
}
# the learning rate of each quarter of the 200 steps: constant, or halved every 50 steps
SCHEDULES = {
    "constant": lambda lr: Schedule(lr=lr),
    "changing": lambda lr: Schedule(name="step", lr=lr, step_size=1, gamma=0.5),
}
CHUNKS = 4


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory, mnist_train) -> str:
    """A float32 weight file of a network mlp-numpy trained for one short epoch."""
    x, labels = mnist_train
    spec = ModelSpec(NETWORK, training=Training(epochs=1, optimizer=Optimizer(name="adam")))
    model, _ = mlp_numpy.train(spec, x[:10_000], labels[:10_000])
    path = tmp_path_factory.mktemp("weights") / "trained.safetensors"
    model.save(path)
    return str(path)


def rounding_bound(layers, x: np.ndarray) -> np.ndarray:
    """A bound, per sample, on how far two float32 forward passes of these layers can put
    the logits apart by rounding alone.

    A float32 sum Σ_i w_i h_i of n products, computed in any order, is off by at most
    γ·Σ_i |w_i h_i|: each of its n roundings is within eps32 of a partial sum, so γ = n·eps32
    if they all align, and about √n·eps32 as they add up like a random walk, the γ used
    here. The error then passes through the next layers' |W| (ReLU does not enlarge it),
    so, with e_0 = 0,

        e_l = |W_l| e_{l−1} + γ_l (|W_l| |h_{l−1}| + |b_l|),   γ_l = √n_l · eps32

    bounds each implementation's error in the logits, and 2 e_L the difference of two.
    """
    h = x.astype(np.float64)
    error = np.zeros_like(h)
    for index, layer in enumerate(layers):
        w, b = np.abs(layer.weight.astype(np.float64)), np.abs(layer.bias.astype(np.float64))
        gamma = np.sqrt(w.shape[1]) * EPS32
        error = error @ w.T + gamma * (np.abs(h) @ w.T + b)
        z = h @ layer.weight.astype(np.float64).T + layer.bias
        h = np.maximum(z, 0) if index < len(layers) - 1 else z
    return 2 * error.max(axis=1)


def test_forward_parity_on_the_test_set(trained_file, mnist_test, device):
    """Outputs on the 10 000 test images: softmax moves each output by at most
    max_k |Δz_k| when the logits move by Δz, so the logit bound bounds the outputs, plus
    a few eps32 for the softmax's own rounding."""
    x, labels = mnist_test
    reference = mlp_numpy.load(trained_file).predict_proba(x)
    ours = mlp_jax.load(trained_file, device=device).predict_proba(x)
    assert ours.dtype == reference.dtype == np.float32
    assert ours.shape == (10_000, 10)
    bound = rounding_bound(load_weights(trained_file).layers, x) + 8 * EPS32
    difference = np.abs(ours - reference).max(axis=1)
    assert (difference <= bound).all(), f"worst difference / bound: {(difference / bound).max()}"
    assert (ours.argmax(axis=1) == reference.argmax(axis=1)).all()
    assert (reference.argmax(axis=1) == labels).mean() > 0.9  # a real, trained network


def train_both(spec: ModelSpec, initial_path, data, device: str) -> list:
    """200 steps of each backend from one initial weight file, in `CHUNKS` calls of 50
    steps at the learning rates of the spec's schedule; (losses, layers) of each. The
    reference trains under Optax's conventions."""
    x, labels = data
    layers = load_weights(initial_path).layers
    order = epoch_batches(len(x), BATCH, spec.training.seed, 0).order
    schedule = spec.training.schedule
    results = []
    for engine in (
        mlp_numpy.make_engine(resolve(spec, "jax"), x, labels, layers=layers),
        mlp_jax.make_engine(spec, x, labels, layers=layers, device=device),
    ):
        losses = [
            engine.train_batches(chunk, BATCH, schedule.lr_at(index, CHUNKS))
            for index, chunk in enumerate(np.split(order, CHUNKS))
        ]
        results.append((np.concatenate(losses), engine.get_layers()))
    return results


@pytest.fixture(scope="module")
def parity_data(mnist_train):
    x, labels = mnist_train
    return x[: STEPS * BATCH], labels[: STEPS * BATCH]


def relative_difference(ours: np.ndarray, reference: np.ndarray) -> float:
    """max |ours − reference| relative to the largest |reference| of the array."""
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


def run_parity(optimizer, lr, schedule, dtype, parity_data, tmp_path, device):
    training = Training(dtype=dtype, optimizer=optimizer, schedule=SCHEDULES[schedule](lr), seed=3)
    spec = ModelSpec(NETWORK, training=training)
    initial = tmp_path / "initial.safetensors"
    save_weights(initial, initial_layers(spec), NETWORK, producer="test")

    (ref_losses, ref_layers), (losses, layers) = train_both(spec, initial, parity_data, device)

    assert losses.dtype == np.float64 and losses.shape == (STEPS,)
    assert ref_losses[-1] < 0.5 * ref_losses[0]  # it learned: the steps were real
    if dtype == "float64":
        np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
        for ours, reference in zip(layers, ref_layers, strict=True):
            assert ours.weight.dtype == np.float64
            assert relative_difference(ours.weight, reference.weight) <= 1e-10
            assert relative_difference(ours.bias, reference.bias) <= 1e-10
    else:
        assert layers[0].weight.dtype == np.float32
        np.testing.assert_allclose(losses, ref_losses, rtol=0, atol=1e-4)


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float64_parity(name, schedule, parity_data, tmp_path, device):
    optimizer, lr = OPTIMIZERS[name]
    run_parity(optimizer, lr, schedule, "float64", parity_data, tmp_path, device)


@pytest.mark.parametrize("name", list(WEIGHT_DECAY_FORMS))
def test_float64_parity_of_each_weight_decay_form(name, parity_data, tmp_path, device):
    optimizer, lr = WEIGHT_DECAY_FORMS[name]
    run_parity(optimizer, lr, "changing", "float64", parity_data, tmp_path, device)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_step_losses(name, parity_data, tmp_path, device):
    optimizer, lr = OPTIMIZERS[name]
    run_parity(optimizer, lr, "changing", "float32", parity_data, tmp_path, device)
