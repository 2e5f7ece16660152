"""`make_optimizer` maps every field of the spec's optimizer to torch.optim's own."""

from __future__ import annotations

import pytest
import torch

from mlp_numpy.spec import Optimizer
from mlp_torch import make_optimizer


def params() -> list[torch.Tensor]:
    return [torch.zeros(3, 2, requires_grad=True), torch.zeros(3, requires_grad=True)]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_sgd_is_torch_sgd_with_the_spec_fields(momentum, weight_decay):
    nesterov = momentum > 0
    spec = Optimizer(name="sgd", momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    optimizer = make_optimizer(spec, params(), lr=0.05)
    assert type(optimizer) is torch.optim.SGD
    (group,) = optimizer.param_groups
    assert group["lr"] == 0.05 and group["momentum"] == momentum
    assert group["nesterov"] is nesterov and group["weight_decay"] == weight_decay
    assert group["dampening"] == 0 and group["maximize"] is False


def test_adam_is_torch_adam_with_the_spec_fields():
    spec = Optimizer(name="adam", beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.01)
    optimizer = make_optimizer(spec, params(), lr=0.003, fused=True)
    assert type(optimizer) is torch.optim.Adam
    (group,) = optimizer.param_groups
    assert group["lr"] == 0.003 and group["betas"] == (0.8, 0.99) and group["eps"] == 1e-6
    assert group["weight_decay"] == 0.01 and group["amsgrad"] is False
    assert group["decoupled_weight_decay"] is False and group["fused"] is True


def test_one_step_of_each_is_the_spec_formula():
    """From w = 1 with g = 2: sgd w − η(g + λw); Adam's first step is w − η·sign(g)
    (m̂ = g, v̂ = g², up to ε)."""
    lr, decay = 0.1, 0.5
    for spec, expected in (
        (Optimizer(name="sgd", weight_decay=decay), 1 - lr * (2 + decay)),
        (Optimizer(name="sgd", momentum=0.9, nesterov=True), 1 - lr * (2 + 0.9 * 2)),
        (Optimizer(name="adam", eps=0.0), 1 - lr),
    ):
        w = torch.ones(1, dtype=torch.float64, requires_grad=True)
        optimizer = make_optimizer(spec, [w], lr=lr)
        w.grad = torch.full_like(w, 2.0)
        optimizer.step()
        assert w.item() == pytest.approx(expected, rel=1e-15), spec
