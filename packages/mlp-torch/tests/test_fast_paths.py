"""The GPU extras, as far as a CPU can run them: the CUDA-graph step's logic (without the
capture, which needs CUDA) and bfloat16 mixed precision (which CPU autocast also has)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlp_torch
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_torch.graphs import CudaGraphStep

NETWORK = Network(layers=(784, 64, 10))


def spec_for(optimizer: Optimizer, dtype: str = "float64") -> ModelSpec:
    return ModelSpec(
        NETWORK,
        training=Training(dtype=dtype, optimizer=optimizer, schedule=Schedule(lr=0.01)),
    )


@pytest.mark.parametrize(
    "optimizer",
    [Optimizer(name="sgd", momentum=0.9, nesterov=True), Optimizer(name="adam", weight_decay=1e-3)],
    ids=["nesterov", "adam"],
)
def test_graph_step_equals_eager_steps(optimizer, mnist_train):
    """Two epochs of 7 full batches of 64 and a short one of 2, through `static_step`
    (device counters for the batch index, η and t) against the eager engine."""
    x, labels = mnist_train[0][:450], mnist_train[1][:450]
    spec = spec_for(optimizer)
    eager = mlp_torch.make_engine(spec, x, labels, device="cpu")
    graphed = mlp_torch.make_engine(spec, x, labels, device="cpu")
    runner = CudaGraphStep(graphed)
    runner.prepare(7, 64)
    for epoch in range(2):
        order = epoch_batches(450, 64, 0, epoch).order
        expected = eager.train_batches(order, 64, 0.01)
        with torch.inference_mode():
            xs, ys = graphed.gather(torch.as_tensor(order))
            runner.x.view(448, -1).copy_(xs[:448])
            runner.y.view(448, -1).copy_(ys[:448])
            runner.step_index.zero_()
            runner.lr.fill_(0.01)
            runner.t.fill_(graphed.optimizer.steps)
            for _ in range(7):
                runner.static_step()
            graphed.optimizer.steps += 7
            last = graphed.step(xs[448:], ys[448:], 0.01)
        np.testing.assert_allclose(runner.losses.numpy(), expected[:7], rtol=1e-12)
        assert last.item() == pytest.approx(expected[7], rel=1e-12)
    for ours, reference in zip(graphed.get_layers(), eager.get_layers(), strict=True):
        np.testing.assert_allclose(ours.weight, reference.weight, rtol=1e-10, atol=1e-14)


def test_cuda_graphs_need_cuda():
    with pytest.raises(ValueError, match="cuda_graphs needs a cuda device, got cpu"):
        mlp_torch.make_engine(
            spec_for(Optimizer()),
            np.zeros((2, 784)),
            np.zeros(2, int),
            device="cpu",
            cuda_graphs=True,
        )


def test_bfloat16_mixed_precision_trains_close_to_float32(mnist_train):
    x, labels = mnist_train[0][:6400], mnist_train[1][:6400]
    spec = spec_for(Optimizer(name="adam"), dtype="float32")
    order = epoch_batches(len(x), 64, 0, 0).order
    full = mlp_torch.make_engine(spec, x, labels, device="cpu")
    mixed = mlp_torch.make_engine(spec, x, labels, device="cpu", mixed_precision=True)
    full_losses = full.train_batches(order, 64, 0.001)
    mixed_losses = mixed.train_batches(order, 64, 0.001)
    assert all(layer.weight.dtype == np.float32 for layer in mixed.get_layers())
    assert not np.array_equal(mixed_losses, full_losses)  # the products really ran in bf16
    np.testing.assert_allclose(mixed_losses[-20:].mean(), full_losses[-20:].mean(), rtol=0.05)
    assert mixed_losses[-20:].mean() < 0.5 * mixed_losses[:5].mean()
