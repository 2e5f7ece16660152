"""PyTorch's defaults as spec options: the backend configured as a PyTorch tutorial writes it
equals the tutorial's own loop, and equals the reference given the same default set."""

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mlp_numpy.conventions import ConventionError
from mlp_numpy.defaults import with_defaults
from mlp_numpy.engine import NumpyEngine
from mlp_numpy.spec import Init, Loss, ModelSpec, Network, Optimizer, SpecError, Training
from mlp_torch.devices import set_tf32
from mlp_torch.engine import TorchEngine
from mlp_torch.initializers import framework_layers

LAYERS = (20, 16, 12, 10)
N, BATCH, EPOCHS = 640, 64, 20  # 10 steps an epoch, 200 steps


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, LAYERS[0])), rng.integers(0, 10, size=N)


def torch_defaults(batch_order="framework", **training):
    base = ModelSpec(Network(LAYERS), training=Training(dtype="float64", **training))
    spec = with_defaults(base, "torch", draw="framework")
    return replace(spec, training=replace(spec.training, batch_order=batch_order))


def relative(layers, reference):
    worst = 0.0
    for (w, b), (rw, rb) in zip(layers, reference, strict=True):
        for a, r in ((w, rw), (b, rb)):
            worst = max(worst, float(np.abs(a - r).max() / np.abs(r).max()))
    return worst


def test_framework_draw_is_a_seeded_nn_linear_and_leaves_the_global_generator():
    spec = torch_defaults(seed=3)
    before = torch.random.get_rng_state()
    layers = framework_layers(spec)
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(3)
    linears = [nn.Linear(i, o, dtype=torch.float64) for i, o in itertools.pairwise(LAYERS)]
    for layer, linear in zip(layers, linears, strict=True):
        np.testing.assert_array_equal(layer.weight, linear.weight.detach().numpy())
        np.testing.assert_array_equal(layer.bias, linear.bias.detach().numpy())
        bound = 1 / np.sqrt(linear.in_features)
        assert np.abs(layer.weight).max() <= bound and np.abs(layer.bias).max() <= bound


def test_framework_draw_of_keras_init_is_torch_xavier_with_zero_bias():
    spec = ModelSpec(Network(LAYERS), init=Init("xavier_uniform", draw="framework"))
    layers = framework_layers(spec)
    torch.manual_seed(0)
    for layer, (i, o) in zip(layers, itertools.pairwise(LAYERS), strict=True):
        expected = nn.init.xavier_uniform_(nn.Linear(i, o).weight.detach().clone())
        np.testing.assert_array_equal(layer.weight, expected.numpy())
        np.testing.assert_array_equal(layer.bias, 0.0)
    like = ModelSpec(
        Network(LAYERS), init=Init("xavier_uniform", bias="like_weights", draw="framework")
    )
    with pytest.raises(SpecError, match=r"init\.bias: torch\.nn\.init draws no bias"):
        framework_layers(like)


def test_framework_order_is_the_dataloaders():
    x, labels = data()
    engine = TorchEngine(torch_defaults(seed=5), x, labels, device="cpu")
    loader = DataLoader(
        range(N), batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(5)
    )
    for _ in range(3):  # every epoch continues the same generator
        expected = torch.cat(list(loader))
        assert torch.equal(engine.epoch_order(np.arange(N)), expected)
    shared = TorchEngine(torch_defaults(seed=5, batch_order="shared"), x, labels, device="cpu")
    assert torch.equal(shared.epoch_order(np.arange(N)[::-1].copy()), torch.arange(N).flip(0))


def test_tutorial_loop_equals_the_engine_with_torchs_defaults():
    """torch.manual_seed; nn.Sequential of nn.Linear; Adam(lr); CrossEntropyLoss; DataLoader."""
    x, labels = data()
    spec = torch_defaults(seed=2)
    engine = TorchEngine(spec, x, labels, device="cpu")
    for _ in range(EPOCHS):
        engine.train_batches(np.arange(N), BATCH, 1e-3)

    torch.manual_seed(2)
    model = nn.Sequential(
        nn.Linear(20, 16, dtype=torch.float64),
        nn.ReLU(),
        nn.Linear(16, 12, dtype=torch.float64),
        nn.ReLU(),
        nn.Linear(12, 10, dtype=torch.float64),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    dataset = TensorDataset(torch.as_tensor(x), torch.as_tensor(labels))
    loader = DataLoader(
        dataset, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(2)
    )
    for _ in range(EPOCHS):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    tutorial = [
        (m.weight.detach().numpy(), m.bias.detach().numpy())
        for m in model
        if isinstance(m, nn.Linear)
    ]
    assert relative(engine.get_layers(), tutorial) < 1e-12


@pytest.mark.parametrize(
    "loss",
    [
        Loss(),
        Loss("bce", form="clamped_log"),
        Loss("bce", "sum_outputs", form="clamped_log"),
    ],
)
def test_torch_default_set_equals_the_reference_in_float64(loss):
    """Shared order, the weights PyTorch draws: 200 float64 steps agree to 1e-10."""
    x, labels = data(1)
    output = "sigmoid" if loss.name == "bce" else "softmax"
    base = ModelSpec(
        Network(LAYERS, output=output), loss, training=Training(dtype="float64", seed=4)
    )
    spec = with_defaults(base, "torch", draw="framework")
    spec = replace(spec, training=replace(spec.training, batch_order="shared"))
    engine = TorchEngine(spec, x, labels, device="cpu")
    reference = NumpyEngine(spec, x, labels, engine.get_layers())
    for epoch in range(EPOCHS):
        order = np.random.default_rng([4, 1, epoch]).permutation(N)
        torch_losses = engine.train_batches(order, BATCH, 1e-3)
        numpy_losses = reference.train_batches(order, BATCH, 1e-3)
        np.testing.assert_allclose(torch_losses, numpy_losses, rtol=1e-10)
    assert relative(engine.get_layers(), reference.get_layers()) < 1e-10
    assert relative(engine.get_layers(), NumpyEngine(spec, x, labels, None).get_layers()) > 1e-3


def test_adamw_is_decoupled_weight_decay_and_keras_conventions_are_errors():
    x, labels = data()
    decoupled = Optimizer(weight_decay=0.01, weight_decay_form="decoupled")
    spec = ModelSpec(Network(LAYERS), training=Training(dtype="float64", optimizer=decoupled))
    engine = TorchEngine(spec, x, labels, device="cpu")
    assert type(engine.optimizer) is torch.optim.AdamW
    reference = NumpyEngine(spec, x, labels)
    order = np.arange(N)
    engine.train_batches(order, BATCH, 1e-3)
    reference.train_batches(order, BATCH, 1e-3)
    assert relative(engine.get_layers(), reference.get_layers()) < 1e-10
    for optimizer, field in [
        (Optimizer(eps_placement="eps_hat"), "eps_placement"),
        (Optimizer(hyperparameter_precision="float32"), "hyperparameter_precision"),
        (Optimizer(name="sgd", momentum=0.9, velocity="step"), "velocity"),
    ]:
        training = Training(dtype="float64", optimizer=optimizer)
        spec = ModelSpec(Network(LAYERS), training=training)
        with pytest.raises(ConventionError, match=f"training.optimizer.{field}: "):
            TorchEngine(spec, x, labels, device="cpu")


@pytest.mark.parametrize("allowed", [True, False])
def test_tf32_switch_is_passed_to_pytorch(allowed):
    x, labels = data()
    previous = torch.backends.cuda.matmul.allow_tf32
    try:
        set_tf32(not allowed)
        spec = ModelSpec(Network(LAYERS), training=Training(tf32=allowed))
        TorchEngine(spec, x, labels, device="cpu")
        assert torch.backends.cuda.matmul.allow_tf32 is allowed
    finally:
        set_tf32(previous)
