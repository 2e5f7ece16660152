"""`make_optimizer` maps every field of the spec's optimizer to torch.optim's own SGD, Adam
and AdamW (their exact types), and refuses, naming the field, a convention torch.optim has
no built-in for."""

from __future__ import annotations

import pytest
import torch

from mlp_numpy.conventions import ConventionError
from mlp_numpy.spec import Optimizer
from mlp_torch.optimizers import make_optimizer


def params(dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    return [
        torch.zeros(3, 2, dtype=dtype, requires_grad=True),
        torch.zeros(3, dtype=dtype, requires_grad=True),
    ]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_sgd_is_torch_sgd_with_the_spec_fields(momentum, weight_decay):
    nesterov = momentum > 0
    spec = Optimizer(name="sgd", momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    optimizer = make_optimizer(spec, params())
    assert type(optimizer) is torch.optim.SGD
    (group,) = optimizer.param_groups
    assert group["lr"] == 0.0 and group["momentum"] == momentum  # the engine sets the rate
    assert group["nesterov"] is nesterov and group["weight_decay"] == weight_decay
    assert group["dampening"] == 0 and group["maximize"] is False


@pytest.mark.parametrize(
    ("form", "kind"), [("framework", torch.optim.Adam), ("decoupled", torch.optim.AdamW)]
)
def test_adam_is_torch_adam_or_adamw_with_the_spec_fields(form, kind):
    spec = Optimizer(
        name="adam", beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.01, weight_decay_form=form
    )
    optimizer = make_optimizer(spec, params(), fused=True)
    assert type(optimizer) is kind
    (group,) = optimizer.param_groups
    assert group["betas"] == (0.8, 0.99) and group["eps"] == 1e-6
    assert group["weight_decay"] == 0.01 and group["amsgrad"] is False
    assert group["decoupled_weight_decay"] is (form == "decoupled") and group["fused"] is True


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
        optimizer = make_optimizer(spec, [w])
        optimizer.param_groups[0]["lr"] = lr
        w.grad = torch.full_like(w, 2.0)
        optimizer.step()
        assert w.item() == pytest.approx(expected, rel=1e-15), spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (Optimizer("adam", eps_placement="eps_hat"), r"eps_placement: torch\.optim\.Adam adds ε"),
        (Optimizer("sgd", momentum=0.9, velocity="step"), r"velocity: torch\.optim\.SGD keeps"),
        (
            Optimizer("sgd", momentum=0.9, weight_decay=0.1, weight_decay_form="decoupled"),
            r"weight_decay_form: torch\.optim\.SGD's weight_decay is coupled",
        ),
        (
            Optimizer("adam", hyperparameter_precision="float32"),
            r"hyperparameter_precision: torch\.optim uses beta1 = 0\.9 as given",
        ),
    ],
)
def test_a_convention_without_a_torch_built_in_is_refused_by_name(spec, message):
    with pytest.raises(ConventionError, match=rf"^training\.optimizer\.{message}"):
        make_optimizer(spec, params(torch.float64))


def test_float32_hyperparameters_are_torchs_own_where_nothing_rounds():
    """In float32 training every hyperparameter is a float32 number anyway, and in float64
    a momentum of 0.5 is one: both precisions are the same update there."""
    rounded = Optimizer("sgd", momentum=0.9, hyperparameter_precision="float32")
    assert type(make_optimizer(rounded, params(torch.float32))) is torch.optim.SGD
    exact_anyway = Optimizer("sgd", momentum=0.5, hyperparameter_precision="float32")
    assert type(make_optimizer(exact_anyway, params(torch.float64))) is torch.optim.SGD
