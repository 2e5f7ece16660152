"""mlp-jax as a backend (`mlp_numpy.backends.Backend`), registered under "jax".

Besides the training API (`make_engine`, `train`, `load`, `devices`), what a comparison
needs to know of JAX: its threads, its GPU, Flax's and Optax's installed defaults, and the
two loops `mlp-compare bench` times beside the engine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from itertools import pairwise

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mlp_numpy.backends import DefaultReading, products_epoch_of, seconds_per_epoch
from mlp_numpy.batches import epoch_batches

from .devices import accelerator_name, cpu_threads, devices, resolve_device, set_threads
from .engine import make_engine
from .model import load, train

NAME = "jax"
DISPLAY_NAME = "JAX"
DISTRIBUTION = "mlp-jax"
DEFAULTS_SET = "flax"

__all__ = [
    "DEFAULTS_SET",
    "DISPLAY_NAME",
    "DISTRIBUTION",
    "NAME",
    "accelerator_name",
    "devices",
    "framework_version",
    "installed_defaults",
    "load",
    "make_engine",
    "products_epoch",
    "products_steps",
    "set_threads",
    "thread_settings",
    "train",
    "tutorial_epoch",
]


def framework_version() -> str:
    """JAX's version, Flax's and Optax's in brackets."""
    return f"{jax.__version__} (Flax {flax.__version__}, Optax {optax.__version__})"


def thread_settings() -> dict[str, int | None]:
    """The threads XLA's CPU backend computes on (`set_threads`: 1, or one per core)."""
    return {"xla_cpu": cpu_threads()}


def installed_defaults() -> dict[str, DefaultReading]:
    """Flax's and Optax's defaults (`mlp_numpy.defaults.ROWS`), read from the installed
    packages: signatures, nnx.Linear's draw measured, the formulas named where they are."""
    adamw = inspect.signature(optax.adamw).parameters
    linear = nnx.Linear(400, 300, rngs=nnx.Rngs(0))
    assert linear.bias is not None  # use_bias=True, nnx.Linear's default
    kernel, bias = np.asarray(linear.kernel[...]), np.asarray(linear.bias[...])
    spread = (
        f"std·√fan_in = {kernel.std() * 20:.3f}, max|w|·√fan_in = {np.abs(kernel).max() * 20:.3f}"
    )
    return {
        "init": DefaultReading(
            f"kernel {spread}, bias {'zeros' if not bias.any() else 'drawn'}",
            "measured: flax.nnx.Linear(400, 300, rngs=nnx.Rngs(0)); lecun_normal is a "
            "normal truncated at ±2, std·√fan_in = 1, max|w|·√fan_in < 2 / 0.8796 = 2.274",
        ),
        "eps": DefaultReading(
            inspect.signature(optax.adam).parameters["eps"].default,
            "inspect.signature(optax.adam) eps",
        ),
        "eps_placement": DefaultReading(
            "η m̂/(√(v̂ + eps_root) + ε), eps_root = "
            f"{inspect.signature(optax.adam).parameters['eps_root'].default}",
            "the formula in optax/_src/transform.py scale_by_adam",
        ),
        "weight_decay_form": DefaultReading(
            f"decoupled, −η λ w; λ = {adamw['weight_decay'].default} by default",
            "the formula in optax/_src/alias.py adamw; inspect.signature(optax.adamw) weight_decay",
        ),
        "velocity": DefaultReading(
            "v ← g + μv", "the formula in optax/_src/transform.py trace (optax.sgd)"
        ),
        "hyperparameter_precision": DefaultReading(
            "the parameters' dtype", "optax.inject_hyperparams casts to the parameters' dtype"
        ),
        "loss_form": DefaultReading(
            "from logits", "optax.softmax_cross_entropy_with_integer_labels takes logits"
        ),
        "batch_order": DefaultReading(
            "jax.random.permutation", "JAX has no data loader: the training loop shuffles"
        ),
        "tf32": DefaultReading(
            str(jax.default_matmul_precision.value),
            "jax.default_matmul_precision (None: TF32 on recent NVIDIA GPUs)",
        ),
    }


def products_epoch(sizes: list[int], n: int, batch_size: int, epochs: int, device: str) -> float:
    """Seconds per epoch of the matrix products of a training epoch alone
    (`products_steps`), on n samples at `batch_size`."""
    full, rest = divmod(n, batch_size)
    last = products_steps(sizes, rest, device) if rest else None
    return products_epoch_of(products_steps(sizes, batch_size, device), last, full, epochs)


INPUT_BATCHES = 8  # products_steps cycles through this many different input batches


def products_steps(sizes: list[int], batch_size: int, device: str) -> Callable[[int], None]:
    """`run(steps)`: the matrix products of `steps` training steps alone, in float32 on
    `device`, in one compiled loop (`jax.lax.fori_loop`), in `nnx.Linear`'s layout (its
    kernel is W_lᵀ): per step and layer l, the forward h_{l−1} W_lᵀ, the kernel's gradient
    h_{l−1}ᵀ δ_l and (below the top layer) δ_l W_l. Each step reads the next of a few
    input batches and the gradients are the loop's state, so XLA can neither hoist the
    products out of the loop nor drop them. It returns once the device has finished."""
    place = resolve_device(device)
    rng = np.random.default_rng(0)
    kernels = [
        jax.device_put(rng.standard_normal((i, o), np.float32) * 0.05, place)
        for i, o in pairwise(sizes)
    ]
    shape = (INPUT_BATCHES, batch_size, sizes[0])
    inputs = jax.device_put(rng.standard_normal(shape, np.float32), place)

    @jax.jit
    def run_steps(count: jax.Array, kernels: list[jax.Array], inputs: jax.Array) -> list[jax.Array]:
        def step(i: jax.Array, grads: list[jax.Array]) -> list[jax.Array]:
            acts = [inputs[i % INPUT_BATCHES]]
            for kernel in kernels:
                acts.append(acts[-1] @ kernel)
            new: list[jax.Array] = []
            delta = acts[-1]  # the top activations stand in for δ_L, of its shape
            for layer in range(len(kernels) - 1, -1, -1):
                new.insert(0, acts[layer].T @ delta)
                if layer:
                    delta = delta @ kernels[layer].T
            return new

        return jax.lax.fori_loop(0, count, step, [jnp.zeros_like(k) for k in kernels])

    def run(steps: int) -> None:
        jax.block_until_ready(run_steps(jnp.asarray(steps), kernels, inputs))

    return run


def products_loop(
    sizes: list[int], n: int, batch_size: int, device: str, *, scan: bool = False
) -> Callable[[int], None]:
    """An epoch (by number) of the matrix products of training alone: per step and layer
    l the forward h_l = h_{l−1} W_lᵀ, the weight gradient δ_lᵀ h_{l−1} and (below the top
    layer) δ_l W_l, on the step's rows gathered from the inputs on the device; one
    compiled call per step, or with `scan` one `jax.lax.scan` over the epoch's full
    batches."""
    place = resolve_device(device)
    rng = np.random.default_rng(0)
    weights = [
        jax.device_put(rng.standard_normal((o, i), np.float32) * 0.05, place)
        for i, o in pairwise(sizes)
    ]
    x = jax.device_put(rng.standard_normal((n, sizes[0]), np.float32), place)

    def products(weights: list[jax.Array], rows: jax.Array) -> list[jax.Array]:
        acts = [x[rows]]
        for w in weights:
            acts.append(acts[-1] @ w.T)
        grads, delta = [], acts[-1]  # the top activations stand in for δ_L, of its shape
        for layer in range(len(weights) - 1, -1, -1):
            grads.append(delta.T @ acts[layer])
            if layer:
                delta = delta @ weights[layer]
        return grads

    def summed(weights: list[jax.Array], rows: jax.Array) -> list[jax.Array]:
        """Every step's products, their gradients summed so that none is left unused."""

        def add(total: list[jax.Array], rows: jax.Array) -> tuple[list[jax.Array], None]:
            return [t + g for t, g in zip(total, products(weights, rows), strict=True)], None

        return jax.lax.scan(add, [jnp.zeros_like(w) for w in reversed(weights)], rows)[0]

    step, scanned = jax.jit(products), jax.jit(summed)

    def run_epoch(epoch: int) -> None:
        order = epoch_batches(n, batch_size, 0, epoch).order.astype(np.int32)
        full = n // batch_size * batch_size
        if scan:
            rows = jax.device_put(order[:full].reshape(-1, batch_size), place)
            jax.block_until_ready(scanned(weights, rows))
            return
        batches = [order[s : s + batch_size] for s in range(0, n, batch_size)]
        jax.block_until_ready([step(weights, b) for b in batches])

    return run_epoch


def tutorial_epoch(
    sizes: list[int],
    x: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    epochs: int,
    device: str,
) -> float:
    """Seconds per epoch of the Flax tutorial's training loop (`tutorial_loop`)."""
    return seconds_per_epoch(tutorial_loop(sizes, x, labels, batch_size, device), epochs)


def tutorial_loop(
    sizes: list[int], x: np.ndarray, labels: np.ndarray, batch_size: int, device: str
) -> Callable[[int], None]:
    """An epoch (by number) of the Flax NNX MNIST tutorial's loop: an `nnx.Module` of
    `nnx.Linear` layers, `optax.softmax_cross_entropy_with_integer_labels`, an `nnx.jit`
    train step updating an `nnx.Optimizer` (plain SGD, rate 0.01), over shuffled NumPy
    batches."""
    place = resolve_device(device)

    class Tutorial(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.linears = nnx.List(nnx.Linear(i, o, rngs=rngs) for i, o in pairwise(sizes))

        def __call__(self, x: jax.Array) -> jax.Array:
            for linear in self.linears[:-1]:
                x = nnx.relu(linear(x))
            return self.linears[-1](x)

    with jax.default_device(place):
        model = Tutorial(nnx.Rngs(0))
        optimizer = nnx.Optimizer(model, optax.sgd(0.01), wrt=nnx.Param)

    @nnx.jit
    def train_step(model: Tutorial, optimizer: nnx.Optimizer, images, targets) -> jax.Array:
        def loss_fn(model: Tutorial) -> jax.Array:
            logits = model(images)
            return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    images, targets = np.asarray(x, np.float32), np.asarray(labels, np.int32)

    def run_epoch(epoch: int) -> None:
        order = np.random.default_rng(epoch).permutation(len(images))
        losses = [
            train_step(model, optimizer, images[batch], targets[batch])
            for batch in np.split(order, range(batch_size, len(order), batch_size))
        ]
        jax.block_until_ready(losses)

    return run_epoch
