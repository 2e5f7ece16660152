"""The speed options change the speed, not the training: torch.optim's `fused`
implementation gives the steps of its default loop, `torch.compile` those of the eager
path; bfloat16 autocast (which changes the numbers) still trains."""

from __future__ import annotations

import numpy as np
import pytest

import mlp_torch
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

NETWORK = Network(layers=(784, 64, 10))


def spec_for(optimizer: Optimizer, dtype: str = "float64") -> ModelSpec:
    return ModelSpec(
        NETWORK, training=Training(dtype=dtype, optimizer=optimizer, schedule=Schedule(lr=0.01))
    )


def two_epochs(engine, n: int, batch_size: int = 64) -> np.ndarray:
    orders = (epoch_batches(n, batch_size, 0, epoch).order for epoch in (0, 1))
    return np.concatenate([engine.train_batches(order, batch_size, 0.01) for order in orders])


@pytest.mark.parametrize(
    "optimizer",
    [
        Optimizer(name="sgd", weight_decay=1e-3),
        Optimizer(name="sgd", momentum=0.9, nesterov=True),
        Optimizer(name="adam", weight_decay=1e-3),
    ],
    ids=["sgd", "nesterov", "adam"],
)
def test_fused_optimizer_takes_the_same_steps(optimizer, mnist_train, device):
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    default = mlp_torch.make_engine(spec_for(optimizer), x, labels, device=device, fused=False)
    fused = mlp_torch.make_engine(spec_for(optimizer), x, labels, device=device, fused=True)
    assert default.optimizer.param_groups[0]["fused"] is not True
    np.testing.assert_allclose(two_epochs(fused, 1000), two_epochs(default, 1000), rtol=1e-12)
    for ours, reference in zip(fused.get_layers(), default.get_layers(), strict=True):
        np.testing.assert_allclose(ours.weight, reference.weight, rtol=1e-10, atol=1e-13)


def test_compiled_module_takes_the_same_steps(mnist_train, device):
    """`torch.compile` of the module (forward and backward), with a short last batch that
    makes it compile a second shape."""
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = spec_for(Optimizer(name="sgd", momentum=0.9))
    eager = mlp_torch.make_engine(spec, x, labels, device=device)
    compiled = mlp_torch.make_engine(spec, x, labels, device=device, compile_mode="default")
    np.testing.assert_allclose(two_epochs(compiled, 1000), two_epochs(eager, 1000), rtol=1e-10)
    for ours, reference in zip(compiled.get_layers(), eager.get_layers(), strict=True):
        np.testing.assert_allclose(ours.weight, reference.weight, rtol=1e-8, atol=1e-11)


def test_bfloat16_mixed_precision_trains_close_to_float32(mnist_train, device):
    x, labels = mnist_train[0][:6400], mnist_train[1][:6400]
    spec = spec_for(Optimizer(name="adam"), dtype="float32")
    order = epoch_batches(len(x), 64, 0, 0).order
    full = mlp_torch.make_engine(spec, x, labels, device=device)
    mixed = mlp_torch.make_engine(spec, x, labels, device=device, mixed_precision=True)
    full_losses = full.train_batches(order, 64, 0.001)
    mixed_losses = mixed.train_batches(order, 64, 0.001)
    assert all(layer.weight.dtype == np.float32 for layer in mixed.get_layers())
    assert not np.array_equal(mixed_losses, full_losses)  # the products really ran in bf16
    np.testing.assert_allclose(mixed_losses[-20:].mean(), full_losses[-20:].mean(), rtol=0.05)
    assert mixed_losses[-20:].mean() < 0.5 * mixed_losses[:5].mean()
