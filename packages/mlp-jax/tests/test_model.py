"""Model, weight files, devices, the Flax objects a trained model holds, and the shared
training loop."""

from __future__ import annotations

import re
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import nnx

import mlp_jax
import mlp_numpy
from mlp_jax.network import MLP
from mlp_numpy.batches import epoch_batches
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.training import DivergenceError, Engine

NETWORK = Network(layers=(784, 32, 10))
README = Path(__file__).resolve().parents[1] / "README.md"


def small_spec(**training) -> ModelSpec:
    return ModelSpec(NETWORK, training=Training(**training))


def test_a_float32_module_stays_float32_under_jax_enable_x64():
    """The float64 trap: jax_enable_x64 (on since a float64 test ran) makes Python floats
    float64, but param_dtype decides the parameters' dtype, and the engine casts the data."""
    mlp_jax.make_engine(small_spec(dtype="float64"), np.zeros((2, 784)), np.array([0, 1]))
    assert jax.config.jax_enable_x64
    engine = mlp_jax.make_engine(small_spec(), np.zeros((2, 784)), np.array([0, 1]))
    assert all(leaf.dtype == np.float32 for leaf in jax.tree.leaves(nnx.state(engine.module)))
    assert engine.x.dtype == np.float32
    losses = engine.train_batches(np.arange(2), 2, 0.1)
    assert losses.dtype == np.float64 and losses.shape == (1,)
    hyperparams = engine.optimizer.opt_state.hyperparams
    assert all(v[...].dtype == np.float32 for v in hyperparams.values())  # inject_hyperparams


def test_layers_of_the_wrong_shape_are_named():
    layers = initial_layers(small_spec())
    wrong = [layers[0], mlp_numpy.Layer(layers[1].weight.T, layers[1].bias)]
    with pytest.raises(ValueError, match=r"layers\[1\]\.weight: expected shape \(10, 32\)"):
        mlp_jax.Model(NETWORK, wrong, device="cpu")


def test_devices_lists_cpu_and_auto_is_jaxs_default_device():
    found = mlp_jax.devices()
    assert found[0] == "cpu"
    assert mlp_jax.resolve_device("auto") == jax.devices()[0]
    assert mlp_jax.resolve_device("cpu").platform == "cpu"


@pytest.mark.parametrize("name", ["gpu:7", "cuda", "cpu:3", "tpu:x"])
def test_unavailable_device_is_a_value_error_naming_it(name):
    if name == "gpu:7" and "gpu" in mlp_jax.devices() and len(jax.devices("gpu")) > 7:
        pytest.fail("this test needs a machine with fewer than 8 GPUs")
    with pytest.raises(ValueError, match=rf"device '{name}' is not available here; available: cpu"):
        mlp_jax.make_engine(small_spec(), np.zeros((2, 784)), np.zeros(2, int), device=name)


def test_the_engine_is_an_engine_and_compiles_when_made(mnist_train, device):
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    engine = mlp_jax.make_engine(small_spec(batch_size=96), x, labels, device=device)
    assert isinstance(engine, Engine)
    assert engine.compile_seconds > 0
    assert engine.scan is (engine.device.platform == "cpu")  # scanned by default on the CPU
    # 1000 samples: ten batches of 96 (one scan of them, or the step), one of 40
    shapes = {(10, 96) if engine.scan else (96,), (40,)}
    assert set(engine._compiled) == shapes
    engine.train_batches(epoch_batches(1000, 96, 0, 0).order, 96, 0.01)
    assert set(engine._compiled) == shapes  # nothing compiled while training


def test_train_learns_mnist_and_reports_every_epoch(mnist_train, mnist_test, device):
    x, labels = mnist_train
    spec = small_spec(
        epochs=2,
        batch_size=128,
        optimizer=Optimizer(name="adam"),
        schedule=Schedule(lr=0.003),
        train_eval_size=2000,
    )
    seen = []
    model, history = mlp_jax.train(
        spec, x[:20_000], labels[:20_000], test=mnist_test, progress=seen.append, device=device
    )
    assert [r.epoch for r in history.records] == [1, 2] and seen == history.records
    assert history.records[1].loss < history.records[0].loss
    assert history.records[1].test_accuracy > 0.9
    assert (model.predict(mnist_test[0]) == mnist_test[1]).mean() == pytest.approx(
        history.records[1].test_accuracy
    )


def test_early_stopping_restores_the_best_weights(mnist_train, device):
    x, labels = mnist_train
    spec = small_spec(
        epochs=6,
        patience=1,
        batch_size=256,
        schedule=Schedule(lr=0.5),
        optimizer=Optimizer(name="sgd"),
    )
    train, validation = (x[:3000], labels[:3000]), (x[3000:4000], labels[3000:4000])
    model, history = mlp_jax.train(spec, *train, validation=validation, device=device)
    best = history.records[history.best_epoch - 1].val_accuracy
    assert (model.predict(validation[0]) == validation[1]).mean() == pytest.approx(best)


def test_divergence_surfaces_with_epoch_step_and_rate(mnist_train, device):
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
        mlp_jax.train(spec, x[:1000], labels[:1000], device=device)
    assert error.value.epoch == 1 and 1 <= error.value.step <= 10


def test_each_step_is_one_optax_update(mnist_train, device):
    """`nnx.Optimizer.update` counts its calls in `step`, Optax's `inject_hyperparams`
    counts its `update` calls in `count`, and Adam counts its own: each is the number of
    steps, so every step called Optax's update once."""
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = small_spec(epochs=2, batch_size=96, optimizer=Optimizer(name="adam"))
    model, _ = mlp_jax.train(spec, x, labels, device=device)
    steps = 2 * 11  # 1000 samples: ten batches of 96 and one of 40, per epoch
    state = model.optimizer.opt_state
    assert int(model.optimizer.step[...]) == steps
    assert int(state.count[...]) == steps
    assert int(state.inner_state[0].count[...]) == steps  # optax.ScaleByAdamState
    assert isinstance(model.optimizer, nnx.Optimizer)
    rate = state.hyperparams["learning_rate"][...]  # the epoch's rate, in the parameters' dtype
    assert rate.dtype == np.float32 and rate == np.float32(spec.training.schedule.lr)


def test_trained_model_holds_its_module_and_optimizer(mnist_train, device, tmp_path):
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = small_spec(epochs=2, batch_size=100, optimizer=Optimizer(name="adam"))
    model, _ = mlp_jax.train(spec, x, labels, device=device)
    assert isinstance(model.module, MLP) and isinstance(model.module, nnx.Module)
    assert int(model.optimizer.step[...]) == 20
    assert model.layers()[0].weight.shape == (32, 784)
    np.testing.assert_array_equal(
        model.layers()[0].weight, np.asarray(model.module.linears[0].kernel[...]).T
    )
    model.save(tmp_path / "mlp.safetensors")
    assert mlp_jax.load(tmp_path / "mlp.safetensors", device=device).optimizer is None


def readme_example(heading: str) -> str:
    """The first Python code block after `heading` in the README."""
    text = README.read_text()
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)


def test_training_continues_in_plain_flax(mnist_train, mnist_test, device):
    """The README's example, as written there: more epochs of the trained module with its
    own nnx.Optimizer and an nnx.jit step."""
    x, labels = mnist_train[0][:5000], mnist_train[1][:5000]
    spec = small_spec(epochs=1, batch_size=100, optimizer=Optimizer(name="adam"))
    model, history = mlp_jax.train(spec, x, labels, device=device)
    before = [np.array(leaf) for leaf in jax.tree.leaves(nnx.state(model.module))]
    namespace = {"model": model, "x": x, "labels": labels}
    namespace["x_test"], namespace["test_labels"] = mnist_test
    exec(readme_example("## Continuing training in plain Flax"), namespace)
    after = jax.tree.leaves(nnx.state(model.module))
    assert all(not np.array_equal(a, b) for a, b in zip(after, before, strict=True))
    assert int(model.optimizer.step[...]) == 50 + namespace["epochs"] * 50  # 50 steps an epoch
    accuracy = (model.predict(x) == labels).mean()
    assert accuracy > history.records[0].train_accuracy  # the model sees the new weights


def test_scan_takes_the_same_steps(mnist_train, device):
    """`scan=True` runs an epoch's full batches as one jax.lax.scan of the same step: the
    same losses and weights as one call per step (1000 samples: 15 batches of 64, one of 40)."""
    x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
    spec = small_spec(dtype="float64", optimizer=Optimizer(name="adam"), schedule=Schedule(lr=0.01))
    engines = [mlp_jax.make_engine(spec, x, labels, device=device, scan=s) for s in (False, True)]
    orders = [epoch_batches(1000, 64, 0, epoch).order for epoch in (0, 1)]
    losses = [np.concatenate([e.train_batches(o, 64, 0.01) for o in orders]) for e in engines]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-13)
    assert losses[0].shape == (32,)
    for ours, reference in zip(engines[1].get_layers(), engines[0].get_layers(), strict=True):
        np.testing.assert_allclose(ours.weight, reference.weight, rtol=1e-12, atol=1e-14)
    assert int(engines[1].optimizer.step[...]) == 32


def test_set_layers_keeps_the_optimizer_state(mnist_train, device):
    x, labels = mnist_train[0][:640], mnist_train[1][:640]
    engine = mlp_jax.make_engine(
        small_spec(optimizer=Optimizer(name="adam")), x, labels, device=device
    )
    engine.train_batches(np.arange(640), 64, 0.01)
    layers = initial_layers(small_spec(seed=5))
    engine.set_layers(layers)
    np.testing.assert_array_equal(engine.get_layers()[1].weight, layers[1].weight)
    assert int(engine.optimizer.step[...]) == 10
    adam = engine.optimizer.opt_state.inner_state[0]  # optax.ScaleByAdamState
    assert np.abs(np.asarray(adam.mu["linears"][0]["kernel"][...])).max() > 0
    engine.train_batches(np.arange(640), 64, 0.01)
    assert int(engine.optimizer.step[...]) == 20
