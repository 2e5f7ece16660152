"""Flax's defaults as spec options: the backend configured as the Flax tutorial writes it
equals the tutorial's own loop, and equals the reference given the same default set; each
framework draw is the initializer it names."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import mlp_jax
from mlp_jax import backend
from mlp_jax.devices import training_dtype
from mlp_jax.initializers import framework_layers
from mlp_jax.network import MLP, module_layers
from mlp_numpy.conventions import resolve
from mlp_numpy.defaults import DEFAULTS, with_defaults
from mlp_numpy.engine import NumpyEngine
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Init, ModelSpec, Network, Optimizer, SpecError, Training

LAYERS = (20, 16, 12, 10)
N, BATCH, EPOCHS = 640, 64, 20  # 10 steps an epoch, 200 steps


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, LAYERS[0])), rng.integers(0, 10, size=N)


def flax_defaults(**training) -> ModelSpec:
    base = ModelSpec(Network(LAYERS), training=Training(dtype="float64", **training))
    return with_defaults(base, "flax", draw="framework")


def relative(layers, reference) -> float:
    worst = 0.0
    for (w, b), (rw, rb) in zip(layers, reference, strict=True):
        for a, r in ((w, rw), (b, rb)):
            worst = max(worst, float(np.abs(a - r).max() / np.abs(r).max()))
    return worst


def test_framework_draw_of_lecun_normal_is_nnx_linears_own():
    spec = flax_defaults(seed=3)
    dtype = training_dtype("float64")  # turns on jax_enable_x64, without which it is float32
    module = MLP(spec.network, rngs=nnx.Rngs(3), param_dtype=dtype)
    for ours, flax in zip(framework_layers(spec, dtype), module_layers(module), strict=True):
        assert ours.weight.dtype == flax.weight.dtype == np.float64
        np.testing.assert_array_equal(ours.weight, flax.weight)
        np.testing.assert_array_equal(ours.bias, 0.0)
        np.testing.assert_array_equal(flax.bias, 0.0)


def test_the_reference_draws_flax_lecun_normal_distribution():
    """The reference's truncated normal (redrawn outside ±2) and JAX's (inverse CDF) are one
    distribution: a two-sample Kolmogorov–Smirnov distance of the 100 352 weights of a
    784 × 128 layer, scaled by √fan_in, below its 0.1 % critical value (1.95 √(2/n))."""
    spec = ModelSpec(Network((784, 128)), init=Init("lecun_normal"), training=Training(seed=1))
    reference = initial_layers(spec)[0].weight.ravel() * math.sqrt(784)
    flax = framework_layers(replace(spec, init=Init("lecun_normal", draw="framework")), jnp.float32)
    drawn = flax[0].weight.ravel() * math.sqrt(784)
    values = np.sort(np.concatenate([reference, drawn]))
    cdf = [np.searchsorted(np.sort(a), values, side="right") / len(a) for a in (reference, drawn)]
    assert np.abs(cdf[0] - cdf[1]).max() < 1.95 * math.sqrt(2 / len(reference))
    for weights in (reference, drawn):
        assert abs(weights.std() - 1) < 0.01
        assert np.abs(weights).max() < 2 / 0.87962566103423978


@pytest.mark.parametrize(
    ("scheme", "std", "bound"),
    [
        ("xavier_uniform", None, lambda i, o: math.sqrt(6 / (i + o))),
        ("he_uniform", None, lambda i, o: math.sqrt(6 / i)),
        ("fan_in_uniform", None, lambda i, o: 1 / math.sqrt(i)),
        ("xavier_normal", lambda i, o: math.sqrt(2 / (i + o)), None),
        ("he_normal", lambda i, o: math.sqrt(2 / i), None),
    ],
)
def test_framework_draws_are_the_spec_distributions(scheme, std, bound):
    spec = ModelSpec(Network((784, 256)), init=Init(scheme, draw="framework"))
    (layer,) = framework_layers(spec, jnp.float32)
    fan_in, fan_out = 784, 256
    if bound is not None:  # U(−b, b): within b, and its variance b²/3
        b = bound(fan_in, fan_out)
        assert np.abs(layer.weight).max() <= b
        assert abs(layer.weight.var() / (b * b / 3) - 1) < 0.02
    else:  # an untruncated normal: its standard deviation, and values beyond 2σ
        sigma = std(fan_in, fan_out)
        assert abs(layer.weight.std() / sigma - 1) < 0.02
        assert np.abs(layer.weight).max() > 3 * sigma
    np.testing.assert_array_equal(layer.bias, 0.0)


def test_fan_in_uniform_like_weights_bias_and_the_other_biases():
    spec = ModelSpec(
        Network(LAYERS), init=Init("fan_in_uniform", bias="like_weights", draw="framework")
    )
    for layer, fan_in in zip(framework_layers(spec, jnp.float32), LAYERS, strict=False):
        assert 0 < np.abs(layer.bias).max() <= 1 / math.sqrt(fan_in)
    like = ModelSpec(Network(LAYERS), init=Init("he_normal", bias="like_weights", draw="framework"))
    with pytest.raises(SpecError, match=r"init\.bias: jax\.nn\.initializers has no bias"):
        framework_layers(like, jnp.float32)


def test_framework_order_is_jax_random_permutation():
    x, labels = data()
    spec = flax_defaults(seed=5)
    engine = mlp_jax.make_engine(spec, x, labels, device="cpu")
    key = jax.random.key(5)
    for _ in range(3):  # every epoch splits a new key off the last one
        key, epoch_key = jax.random.split(key)
        expected = np.asarray(jax.random.permutation(epoch_key, N))
        np.testing.assert_array_equal(engine.epoch_order(np.arange(N)), expected)


def tutorial_loop(spec: ModelSpec, x, labels) -> tuple[np.ndarray, list]:
    """The Flax tutorial's own training, in float64: a module of nnx.Linear layers built
    from nnx.Rngs(seed), nnx.Optimizer over optax.adamw(lr, momentum) with its defaults, an
    nnx.jit step on batches of a jax.random.permutation each epoch."""

    class Tutorial(nnx.Module):
        def __init__(self, rngs):
            self.linears = nnx.List(
                nnx.Linear(i, o, param_dtype=jnp.float64, rngs=rngs) for i, o in pairwise(LAYERS)
            )

        def __call__(self, x):
            for linear in self.linears[:-1]:
                x = nnx.relu(linear(x))
            return self.linears[-1](x)

    lr = spec.training.schedule.lr
    model = Tutorial(nnx.Rngs(spec.training.seed))
    optimizer = nnx.Optimizer(model, optax.adamw(lr, 0.9), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer, images, targets):
        def loss_fn(model):
            logits = model(images)
            return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    images, targets = jnp.asarray(x), jnp.asarray(labels)
    key, losses = jax.random.key(spec.training.seed), []
    for _ in range(EPOCHS):
        key, epoch_key = jax.random.split(key)
        order = jax.random.permutation(epoch_key, N)
        for start in range(0, N, BATCH):
            batch = order[start : start + BATCH]
            losses.append(float(train_step(model, optimizer, images[batch], targets[batch])))
    layers = [(np.asarray(lin.kernel[...]).T, np.asarray(lin.bias[...])) for lin in model.linears]
    return np.array(losses), layers


def test_flax_defaults_equal_the_tutorials_loop_and_the_reference():
    """with_defaults(spec, "flax", draw="framework") trains, in mlp-jax, as the Flax
    tutorial's loop; the reference with the same default set, initial weights and order
    takes the same 200 steps (float64, within 1e-10)."""
    x, labels = data()
    spec = flax_defaults(seed=7, batch_size=BATCH)
    assert spec.training.optimizer.weight_decay == 1e-4  # optax.adamw's default
    lr = spec.training.schedule.lr
    tutorial_losses, tutorial_layers = tutorial_loop(spec, x, labels)

    engine = mlp_jax.make_engine(spec, x, labels, device="cpu")
    initial = engine.get_layers()
    orders = [engine.epoch_order(np.arange(N)) for _ in range(EPOCHS)]
    engine = mlp_jax.make_engine(spec, x, labels, device="cpu")  # its own orders again
    losses = np.concatenate([engine.train_batches(np.arange(N), BATCH, lr) for _ in orders])
    np.testing.assert_allclose(losses, tutorial_losses, rtol=1e-10)
    assert relative(engine.get_layers(), tutorial_layers) < 1e-10

    reference = NumpyEngine(resolve(spec, "jax"), x, labels, layers=initial)
    reference_losses = np.concatenate([reference.train_batches(o, BATCH, lr) for o in orders])
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-10)
    assert relative(engine.get_layers(), reference.get_layers()) < 1e-10
    assert losses[-10:].mean() < losses[:10].mean()


def test_the_flax_set_runs_for_sgd_too():
    x, labels = data()
    base = ModelSpec(Network(LAYERS), training=Training(optimizer=Optimizer("sgd", momentum=0.9)))
    spec = with_defaults(base, "flax", draw="framework")
    engine = mlp_jax.make_engine(spec, x, labels, device="cpu")
    losses = engine.train_batches(np.arange(N), BATCH, 0.05)
    assert losses.shape == (10,) and np.isfinite(losses).all()


def test_installed_defaults_are_read_from_flax_and_optax():
    defaults = backend.installed_defaults()
    flax = DEFAULTS["flax"]
    assert defaults["eps"].value == flax["training"]["optimizer"]["eps"]
    decay = flax["training"]["optimizer"]["weight_decay"]  # optax.adamw's default λ
    assert defaults["weight_decay_form"].value.endswith(f"λ = {decay} by default")
    # nnx.Linear's lecun_normal, measured: a standard deviation of 1/√fan_in, truncated
    # at 2 / 0.8796 of it; zero biases
    init = defaults["init"].value
    std, largest = (float(part.split(", ")[0]) for part in init.split("= ")[1:3])
    assert std == pytest.approx(1.0, abs=0.02) and 2.2 < largest < 2 / 0.87962566103423978
    assert init.endswith("bias zeros")
    assert all(reading.source for reading in defaults.values())
