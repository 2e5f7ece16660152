"""mlp-torch is the reference network: same outputs, same steps, same weights.

Both backends start from one weight file and train on the same batches of real MNIST,
so any difference left is floating-point rounding, which these tolerances bound.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlp_numpy
import mlp_torch
from mlp_numpy.batches import epoch_batches
from mlp_numpy.init import initial_layers
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Training
from mlp_numpy.weights import load_weights, save_weights

NETWORK = Network(layers=(784, 128, 64, 10))
STEPS, BATCH = 200, 64

OPTIMIZERS = {
    "sgd": (Optimizer(name="sgd"), 0.1),
    "momentum": (Optimizer(name="sgd", momentum=0.9), 0.02),
    "nesterov": (Optimizer(name="sgd", momentum=0.9, nesterov=True), 0.02),
    "adam": (Optimizer(name="adam"), 0.001),
}


def make_spec(optimizer: Optimizer, dtype: str) -> ModelSpec:
    return ModelSpec(NETWORK, training=Training(dtype=dtype, optimizer=optimizer, seed=3))


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory, mnist_train) -> str:
    """A float32 weight file of a network mlp-numpy trained for one short epoch."""
    x, labels = mnist_train
    spec = ModelSpec(NETWORK, training=Training(epochs=1, optimizer=Optimizer(name="adam")))
    model, _ = mlp_numpy.train(spec, x[:10_000], labels[:10_000])
    path = tmp_path_factory.mktemp("weights") / "trained.safetensors"
    model.save(path)
    return str(path)


def test_forward_parity_on_the_test_set(trained_file, mnist_test):
    x, labels = mnist_test
    reference = mlp_numpy.load(trained_file).predict_proba(x)
    ours = mlp_torch.load(trained_file, device="cpu").predict_proba(x)
    assert ours.dtype == reference.dtype == np.float32
    assert ours.shape == (10_000, 10)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
    assert (ours.argmax(axis=1) == reference.argmax(axis=1)).all()
    assert (reference.argmax(axis=1) == labels).mean() > 0.9  # a real, trained network


def train_both(spec: ModelSpec, initial_path, data) -> tuple:
    """200 steps of each backend from one initial weight file; (losses, layers) of each."""
    x, labels = data
    layers = load_weights(initial_path).layers
    order = epoch_batches(len(x), BATCH, spec.training.seed, 0).order
    results = []
    for backend in (mlp_numpy, mlp_torch):
        engine = backend.make_engine(spec, x, labels, layers=layers, device="cpu")
        lr = spec.training.schedule.lr
        losses = engine.train_batches(order, BATCH, lr)
        results.append((losses, engine.get_layers()))
    return results


@pytest.fixture(scope="module")
def parity_data(mnist_train):
    x, labels = mnist_train
    return x[: STEPS * BATCH], labels[: STEPS * BATCH]


@pytest.mark.parametrize("weight_decay", [0.0, 0.001])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_training_parity(name, weight_decay, dtype, parity_data, tmp_path):
    optimizer, lr = OPTIMIZERS[name]
    optimizer = Optimizer(**{**optimizer.__dict__, "weight_decay": weight_decay})
    spec = make_spec(optimizer, dtype)
    spec = ModelSpec.from_dict(
        {
            **spec.to_dict(),
            "training": {**spec.to_dict()["training"], "schedule": {"name": "constant", "lr": lr}},
        }
    )
    initial = tmp_path / "initial.safetensors"
    save_weights(initial, initial_layers(spec), NETWORK, producer="test")

    (ref_losses, ref_layers), (losses, layers) = train_both(spec, initial, parity_data)

    assert losses.dtype == np.float64 and losses.shape == (STEPS,)
    assert ref_losses[-1] < ref_losses[0]  # it learned something: the steps were real
    if dtype == "float64":
        np.testing.assert_allclose(losses, ref_losses, rtol=1e-9)
        for ours, reference in zip(layers, ref_layers, strict=True):
            assert ours.weight.dtype == np.float64
            np.testing.assert_allclose(ours.weight, reference.weight, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(ours.bias, reference.bias, rtol=1e-9, atol=1e-12)
    else:
        np.testing.assert_allclose(losses, ref_losses, rtol=0, atol=1e-4)
