"""The module matches its spec, and the hand-written derivatives match autograd."""

from __future__ import annotations

import itertools

import pytest
import torch

from mlp_numpy.spec import Loss, Network, Optimizer
from mlp_torch.network import (
    MLP,
    backward,
    forward_trace,
    log_softmax_rows,
    loss_and_delta,
    sgd_backward,
    summed_loss_delta,
)
from mlp_torch.optim import SpecOptimizer

HIDDEN = ["relu", "sigmoid", "tanh", "leaky_relu"]
OUTPUT_LOSS = [
    ("softmax", "cross_entropy"),
    ("sigmoid", "bce"),
    ("softmax", "mse"),
    ("sigmoid", "mse"),
    ("identity", "mse"),
]


def test_module_has_every_layer_of_the_spec():
    model = MLP(Network(layers=(6, 5, 4, 3), bias=False), dtype=torch.float64)
    assert [(m.in_features, m.out_features) for m in model.linears] == [(6, 5), (5, 4), (4, 3)]
    assert all(m.bias is None for m in model.linears)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert len(model.parameter_list()) == 3


def torch_reference_loss(model: MLP, x, y, loss: Loss):
    """The same loss from PyTorch's own functions, for autograd to differentiate."""
    n, k = y.shape
    divisor = n * k if loss.reduction == "mean" else n
    if loss.name == "cross_entropy":
        return torch.nn.functional.cross_entropy(model.logits(x), y.argmax(dim=1))
    a = model(x)
    if loss.name == "bce":
        return torch.nn.functional.binary_cross_entropy(a, y, reduction="sum") / divisor
    return ((a - y) ** 2).sum() / divisor


@pytest.mark.parametrize(
    ("hidden", "output_loss", "reduction", "bias"),
    list(itertools.product(HIDDEN, OUTPUT_LOSS, ["mean", "sum_outputs"], [True, False])),
)
def test_backward_equals_autograd(hidden, output_loss, reduction, bias):
    output_name, loss_name = output_loss
    network = Network(
        layers=(5, 4, 6, 3), hidden=hidden, output=output_name, bias=bias, leaky_slope=0.1
    )
    loss = Loss(name=loss_name, reduction=reduction)
    generator = torch.Generator().manual_seed(0)
    model = MLP(network, dtype=torch.float64)
    x = torch.randn(7, 5, dtype=torch.float64, generator=generator)
    labels = torch.randint(0, 3, (7,), generator=generator)
    y = torch.nn.functional.one_hot(labels, 3).to(torch.float64)

    with torch.no_grad():
        trace = forward_trace(model.layer_tensors(), x, network)
        value, delta = loss_and_delta(trace[-1], y, loss, output_name)
        grads = backward(model.layer_tensors(), trace, delta, network)
    reference = torch_reference_loss(model, x, y, loss)
    expected = torch.autograd.grad(reference, model.parameter_list())

    assert value.item() == pytest.approx(reference.item(), rel=1e-12)
    assert len(grads) == len(expected)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-14)


def test_bce_loss_is_finite_for_saturated_logits():
    z = torch.tensor([[200.0, -200.0]], dtype=torch.float64)
    y = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    value, _ = loss_and_delta(z, y, Loss(name="bce", reduction="sum_outputs"), "sigmoid")
    assert value.item() == pytest.approx(400.0)


@pytest.mark.parametrize(
    ("hidden", "bias", "weight_decay", "batch"),
    list(itertools.product(HIDDEN, [True, False], [0.0, 0.01], [1, 7])),
)
def test_fused_sgd_equals_backward_then_update(hidden, bias, weight_decay, batch):
    network = Network(layers=(5, 4, 6, 3), hidden=hidden, bias=bias, leaky_slope=0.1)
    generator = torch.Generator().manual_seed(1)
    torch.manual_seed(0)  # nn.Linear's init draws: a seed under which the step changes weights
    fused, separate = (MLP(network, dtype=torch.float64) for _ in range(2))
    separate.load_state_dict(fused.state_dict())
    initial = {name: value.clone() for name, value in fused.state_dict().items()}
    x = torch.randn(batch, 5, dtype=torch.float64, generator=generator)
    y = torch.nn.functional.one_hot(torch.randint(0, 3, (batch,), generator=generator), 3)
    y, lr = y.to(torch.float64), 0.5
    decay = 1 - lr * weight_decay
    optimizer = SpecOptimizer(
        Optimizer(name="sgd", weight_decay=weight_decay), separate.parameter_list()
    )
    with torch.no_grad():
        for model in (fused, separate):
            trace = forward_trace(model.layer_tensors(), x, network)
            if model is fused:  # as the engine calls it: D δ and η / D (D = batch)
                delta = summed_loss_delta(trace[-1], y, Loss(), network.output)
                ones = x.new_ones((1, batch))
                sgd_backward(model.layer_tensors(), trace, delta, network, lr / batch, decay, ones)
            else:
                _, delta = loss_and_delta(trace[-1], y, Loss(), network.output)
                optimizer.update(backward(model.layer_tensors(), trace, delta, network), lr)
    after = fused.state_dict()
    assert any(not torch.equal(after[name], value) for name, value in initial.items())
    for name, value in after.items():
        torch.testing.assert_close(value, separate.state_dict()[name], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(1, 10), (7, 3), (64, 10), (1000, 10)])
def test_log_softmax_rows_is_torch_log_softmax(dtype, shape):
    z = torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(0)) * 10
    expected = torch.log_softmax(z, dim=1)
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(log_softmax_rows(z), expected, rtol=4 * eps, atol=4 * eps)
