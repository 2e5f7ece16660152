"""Model, weight files, state_dict export, devices, and the shared training loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlp_numpy
import mlp_torch
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.training import DivergenceError, fit
from mlp_torch.network import MLP

NETWORK = Network(layers=(784, 32, 10))


def small_spec(**training) -> ModelSpec:
    return ModelSpec(NETWORK, training=Training(**training))


def test_state_dict_loads_with_weights_only(tmp_path):
    layers = initial_layers(small_spec())
    model = mlp_torch.Model(NETWORK, layers, device="cpu")
    model.save_state_dict(tmp_path / "mlp.pt")

    state = torch.load(tmp_path / "mlp.pt", weights_only=True)
    assert set(state) == {
        "linears.0.weight",
        "linears.0.bias",
        "linears.1.weight",
        "linears.1.bias",
    }
    module = MLP(NETWORK)
    module.load_state_dict(state)
    x = torch.rand(3, 784)
    with torch.no_grad():
        np.testing.assert_array_equal(
            module.probabilities(x).numpy(), model.predict_proba(x.numpy())
        )
    assert list(tmp_path.iterdir()) == [tmp_path / "mlp.pt"]  # no temporary left behind


def test_layers_of_the_wrong_shape_are_named():
    layers = initial_layers(small_spec())
    wrong = [layers[0], mlp_numpy.Layer(layers[1].weight.T, layers[1].bias)]
    with pytest.raises(ValueError, match=r"layers\[1\]\.weight: expected shape \(10, 32\)"):
        mlp_torch.Model(NETWORK, wrong, device="cpu")


def test_devices_lists_cpu_and_auto_falls_back_to_it():
    found = mlp_torch.devices()
    assert found[0] == "cpu"
    assert mlp_torch.resolve_device("auto").type == (
        "cuda" if "cuda" in found else "mps" if "mps" in found else "cpu"
    )


@pytest.mark.parametrize("name", ["cuda:7", "tpu", "gpu"])
def test_unavailable_device_is_a_value_error_naming_it(name):
    if name == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.fail("this test needs a machine with fewer than 8 GPUs")
    with pytest.raises(ValueError, match=rf"device '{name}' is not available here; available: cpu"):
        mlp_torch.make_engine(small_spec(), np.zeros((2, 784)), np.zeros(2, int), device=name)


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_accelerators_resolve_exactly_when_listed(name):
    if name in mlp_torch.devices():
        assert mlp_torch.resolve_device(name).type == name
    else:
        with pytest.raises(ValueError, match=f"device '{name}' is not available here"):
            mlp_torch.resolve_device(name)


def test_train_learns_mnist_and_reports_every_epoch(mnist_train, mnist_test):
    x, labels = mnist_train
    spec = small_spec(
        epochs=2,
        batch_size=128,
        optimizer=Optimizer(name="adam"),
        schedule=Schedule(lr=0.003),
        train_eval_size=2000,
    )
    seen = []
    model, history = mlp_torch.train(
        spec, x[:20_000], labels[:20_000], test=mnist_test, progress=seen.append, device="cpu"
    )
    assert [r.epoch for r in history.records] == [1, 2] and seen == history.records
    assert history.records[1].loss < history.records[0].loss
    assert history.records[1].test_accuracy > 0.9
    assert (model.predict(mnist_test[0]) == mnist_test[1]).mean() == pytest.approx(
        history.records[1].test_accuracy
    )


def test_early_stopping_restores_the_best_weights(mnist_train):
    x, labels = mnist_train
    spec = small_spec(
        epochs=6,
        patience=1,
        batch_size=256,
        schedule=Schedule(lr=0.5),
        optimizer=Optimizer(name="sgd"),
    )
    train, validation = (x[:3000], labels[:3000]), (x[3000:4000], labels[3000:4000])
    model, history = mlp_torch.train(spec, *train, validation=validation, device="cpu")
    best = history.records[history.best_epoch - 1].val_accuracy
    assert (model.predict(validation[0]) == validation[1]).mean() == pytest.approx(best)


def test_divergence_surfaces_with_epoch_step_and_rate(mnist_train):
    x, labels = mnist_train
    spec = ModelSpec(
        Network(layers=(784, 32, 10), hidden="tanh", output="identity"),
        loss=Loss(name="mse"),
        training=Training(
            epochs=2,
            batch_size=100,
            schedule=Schedule(lr=1000.0),
            optimizer=Optimizer(name="sgd"),
        ),
    )
    with pytest.raises(DivergenceError, match="learning rate 1000") as error:
        mlp_torch.train(spec, x[:1000], labels[:1000], device="cpu")
    assert error.value.epoch == 1 and 1 <= error.value.step <= 10


def test_float64_on_mps_is_refused_by_name():
    from mlp_torch.devices import check_dtype

    with pytest.raises(ValueError, match="float64 is not supported on mps"):
        check_dtype(torch.device("mps"), torch.float64)
    check_dtype(torch.device("cpu"), torch.float64)  # fine elsewhere


def counted_training(spec: ModelSpec, x, labels, device: str):
    """`mlp_torch.train` with counters on `backward()` (through a parameter's
    post-accumulate-grad hook) and on the optimizer's `step()`."""
    engine = mlp_torch.make_engine(spec, x, labels, device=device)
    counts = {"backward": 0, "step": 0}
    first = engine.module.linears[0].weight

    def count(name):
        def hook(*_):
            counts[name] += 1

        return hook

    first.register_post_accumulate_grad_hook(count("backward"))
    engine.optimizer.register_step_post_hook(count("step"))
    fit(engine, spec, train=(x, labels))
    return engine, counts


def test_each_step_is_one_backward_and_one_optimizer_step(mnist_train, device):
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = small_spec(epochs=2, batch_size=96, optimizer=Optimizer(name="adam"))
    engine, counts = counted_training(spec, x, labels, device)
    steps = 2 * 11  # 1000 samples: ten batches of 96 and one of 40, per epoch
    assert counts == {"backward": steps, "step": steps}
    assert isinstance(engine.optimizer, torch.optim.Adam)
    for parameter in engine.module.parameters():
        assert engine.optimizer.state[parameter]["step"].item() == steps


def test_trained_model_holds_its_module_and_optimizer(mnist_train, device, tmp_path):
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = small_spec(epochs=2, batch_size=100, optimizer=Optimizer(name="adam"))
    model, _ = mlp_torch.train(spec, x, labels, device=device)
    assert isinstance(model.module, torch.nn.Module) and isinstance(model.module, MLP)
    assert isinstance(model.optimizer, torch.optim.Adam)
    (group,) = model.optimizer.param_groups
    assert [id(p) for p in group["params"]] == [id(p) for p in model.module.parameters()]
    assert all(model.optimizer.state[p]["step"].item() == 20 for p in model.module.parameters())
    model.save(tmp_path / "mlp.safetensors")
    assert mlp_torch.load(tmp_path / "mlp.safetensors", device=device).optimizer is None


def test_training_continues_in_plain_pytorch(mnist_train, device):
    """The README's example: more epochs of the trained module with its own optimizer."""
    x, labels = mnist_train[0][:5000], mnist_train[1][:5000]
    spec = small_spec(epochs=1, batch_size=100, optimizer=Optimizer(name="adam"))
    model, history = mlp_torch.train(spec, x, labels, device=device)
    module, optimizer = model.module, model.optimizer
    inputs = torch.as_tensor(x, device=model.device)
    targets = torch.as_tensor(labels, device=model.device)
    before = [p.detach().clone() for p in module.parameters()]
    for _ in range(3):
        for batch in torch.randperm(len(inputs), device=model.device).split(100):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(module(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
    assert all(not torch.equal(p, q) for p, q in zip(module.parameters(), before, strict=True))
    assert optimizer.state[module.linears[0].weight]["step"].item() == 50 + 150
    accuracy = (model.predict(x) == labels).mean()
    assert accuracy > history.records[0].train_accuracy  # the model sees the new weights
