"""The optimizers are the spec's formulas, which are also torch.optim's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlp_numpy.optimizers import make_optimizer
from mlp_numpy.spec import Optimizer
from mlp_torch.optim import SpecOptimizer

CONFIGS = [
    Optimizer(name="sgd"),
    Optimizer(name="sgd", weight_decay=0.01),
    Optimizer(name="sgd", momentum=0.9),
    Optimizer(name="sgd", momentum=0.9, weight_decay=0.01),
    Optimizer(name="sgd", momentum=0.9, nesterov=True),
    Optimizer(name="sgd", momentum=0.9, nesterov=True, weight_decay=0.01),
    Optimizer(name="adam"),
    Optimizer(name="adam", weight_decay=0.01, beta1=0.8, beta2=0.99, eps=1e-6),
]


def torch_optimizer(config: Optimizer, params, lr: float) -> torch.optim.Optimizer:
    if config.name == "adam":
        return torch.optim.Adam(
            params,
            lr=lr,
            betas=(config.beta1, config.beta2),
            eps=config.eps,
            weight_decay=config.weight_decay,
            foreach=False,
        )
    return torch.optim.SGD(
        params,
        lr=lr,
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
        foreach=False,
    )


def random_gradients(steps: int, shapes, dtype) -> list[list[torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    return [
        [torch.randn(s, dtype=dtype, generator=generator) for s in shapes] for _ in range(steps)
    ]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_matches_torch_optim(config):
    shapes = [(4, 3), (4,)]
    start = [torch.randn(s, dtype=torch.float64) for s in shapes]
    ours = [p.clone() for p in start]
    theirs = [p.clone().requires_grad_() for p in start]
    optimizer = SpecOptimizer(config, ours)
    reference = torch_optimizer(config, theirs, lr=0.05)
    for grads in random_gradients(50, shapes, torch.float64):
        optimizer.update([g.clone() for g in grads], 0.05)
        for p, g in zip(theirs, grads, strict=True):
            p.grad = g.clone()
        reference.step()
    for got, want in zip(ours, theirs, strict=True):
        torch.testing.assert_close(got, want.detach(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_matches_mlp_numpy(config, dtype):
    """Against the reference's own optimizer on one flat array, for 300 steps, in float32
    as well: both compute Adam's bias corrections `1 − βᵗ` in float64."""
    rng = np.random.default_rng(2)
    w = rng.normal(size=50).astype(dtype)
    ours = [torch.tensor(w)]
    optimizer = SpecOptimizer(config, ours)
    reference = make_optimizer(config, w)
    for _ in range(300):
        g = rng.normal(size=50).astype(dtype)
        optimizer.update([torch.tensor(g)], 0.01)
        # the reference's `step` takes c·g, c its `gradient_scale` (η for plain SGD)
        reference.step(w, g * reference.gradient_scale(0.01), 0.01)
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(ours[0].numpy(), w, rtol=tolerance, atol=tolerance)


def test_tensor_scalars_give_the_same_update():
    """The CUDA-graph form (η and t as 0-dim float64 tensors) equals the Python-number form."""
    config = Optimizer(name="adam", weight_decay=0.01)
    shapes = [(3, 2), (3,)]
    start = [torch.randn(s) for s in shapes]
    numbers, tensors = [p.clone() for p in start], [p.clone() for p in start]
    by_number, by_tensor = SpecOptimizer(config, numbers), SpecOptimizer(config, tensors)
    for t, grads in enumerate(random_gradients(20, shapes, torch.float32), start=1):
        by_number.update([g.clone() for g in grads], 0.01)
        lr, step = torch.tensor(0.01, dtype=torch.float64), torch.tensor(t, dtype=torch.float64)
        by_tensor.update([g.clone() for g in grads], lr, step)
    for got, want in zip(tensors, numbers, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)


def test_adam_bias_corrections_are_float64_in_float32():
    """The first Adam update is η·g/(|g| + ε·…) ≈ η·sign(g). With 1 − β₂ rounded to
    float32 (1 − 0.999 is then off by 1.3e-5), the step would be off by about 6e-6."""
    config = Optimizer(name="adam", beta2=0.999)
    g = np.array([3.0, -0.5, 2e-3], dtype=np.float32)
    w = [torch.zeros(3, dtype=torch.float32)]
    SpecOptimizer(config, w).update([torch.tensor(g)], 0.1)
    g64 = g.astype(np.float64)
    m_hat = (1 - 0.9) * g64 / (1 - 0.9)
    v_hat = (1 - 0.999) * g64**2 / (1 - 0.999)
    expected = -0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(w[0].numpy(), expected, rtol=1e-6)
