"""The training engine: an `MLP`, its `nnx.Optimizer` and the training data, on one
device, trained the way the Flax performance guide writes a training loop for small models.

`mlp_numpy.training.fit` runs the epoch loop (batch order, learning-rate schedule,
history, early stopping, divergence) over this engine exactly as over the NumPy one; the
engine takes the steps. One step is

    module, optimizer = nnx.merge(graphdef, state)
    optimizer.opt_state.hyperparams["learning_rate"][...] = η      the epoch's rate
    loss, grads = nnx.value_and_grad(loss_fn)(module, x[batch], targets[batch])
    optimizer.update(module, grads)                               Optax's update
    return nnx.state((module, optimizer)), loss

compiled by `jax.jit`: the guide's "functional training loop", which splits the module
and optimizer once (`nnx.split`) so that no step walks the object graph in Python, as
`nnx.jit` does on every call. The state travels between steps as its flat list of arrays
(`jax.tree.flatten`), which `jax.jit` reads in C++; an `nnx.State` would be flattened in
Python at every call. At the end of each `train_batches` the module and optimizer objects
get the new state (`nnx.update`), so `engine.module` and `engine.optimizer` are always the
trained Flax objects; each call starts from them.

Data: the training inputs and targets go to the device once, in the training dtype; each
step's indices go with its call (with `scan=True`, the epoch's as one (steps, batch)
array), and the step gathers its rows on the device. Step losses stay on the device until
the epoch's steps are all queued.

Compilation happens when the engine is made (`compile_seconds` says how long it took),
for the spec's batch size and the epoch's last, shorter batch, so no epoch's time includes
it; a call with another batch size compiles its shapes then. With `scan=True` an epoch's
full batches are one `jax.lax.scan` over the same step (one call into compiled code per
epoch instead of one per step); the numbers are the same. It is the default on the CPU,
where it is faster (`scanned_by_default`); a call with another number of full batches
compiles that scan then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mlp_numpy import Layer
from mlp_numpy.conventions import resolve
from mlp_numpy.initializers import initial_layers
from mlp_numpy.inputs import check_inputs, check_targets
from mlp_numpy.spec import ModelSpec

from .devices import precision, resolve_device, training_dtype
from .initializers import framework_layers
from .losses import make_loss, targets
from .network import MLP, load_layers, module_layers, probabilities
from .optimizers import make_optimizer


def scanned_by_default(device: jax.Device) -> bool:
    """Whether an engine scans an epoch's steps when not told: on the CPU, where one call
    per epoch takes less time than one call per step, by about a fifth at batch 64 and
    4–5 × at batch 1 (README, Speed); elsewhere one call per step, until a GPU benchmark
    says otherwise."""
    return device.platform == "cpu"


class JaxEngine:
    """Trains `MLP(spec.network)` on (x, labels) with the spec's Optax loss and optimizer.

    `module` is the `nnx.Module` and `optimizer` the `nnx.Optimizer` it trains with (its
    `step` counts the updates, its `opt_state` is Optax's state); both are plain Flax
    objects that code outside the engine may keep using. `compile_seconds` is the time
    the construction spent compiling.
    """

    def __init__(
        self,
        spec: ModelSpec,
        x: np.ndarray,
        labels: np.ndarray,
        *,
        layers: list[Layer] | None = None,
        device: str = "auto",
        scan: bool | None = None,
    ) -> None:
        spec = resolve(spec, "jax")
        network = spec.network
        self.spec = spec
        self.device = resolve_device(device)
        self.dtype = training_dtype(spec.training.dtype)
        self.scan = scanned_by_default(self.device) if scan is None else scan
        loss = make_loss(spec.loss, network)  # ConventionError for a loss form
        x = check_inputs(x, network.layers[0])
        labels = check_targets(labels, len(x), network)
        with jax.default_device(self.device):
            self.module = MLP(
                network,
                rngs=nnx.Rngs(spec.training.seed),
                param_dtype=self.dtype,
                precision=precision(spec.training.tf32),
            )
            if layers is None and spec.init.draw == "framework" and spec.init.scheme != "file":
                layers = framework_layers(spec, self.dtype)
            self.set_layers(initial_layers(spec) if layers is None else layers)
            # ConventionError for an optimizer convention Optax has no built-in for
            self.optimizer = make_optimizer(spec.training.optimizer, self.module)
            # batch_order = "framework": JAX's own shuffling, one key per epoch from this one
            self.key = jax.random.key(spec.training.seed)
        self.x = jax.device_put(np.asarray(x, dtype=self.dtype), self.device)
        self.targets = jax.device_put(targets(labels, spec.loss, network, self.dtype), self.device)
        self.graphdef, state = nnx.split((self.module, self.optimizer))
        self.treedef = jax.tree.structure(state)

        def train_step(leaves, x, targets, batch, lr):
            """One update on the samples `batch`: the state's arrays after it, and the loss
            before it."""
            module, optimizer = nnx.merge(self.graphdef, jax.tree.unflatten(self.treedef, leaves))
            optimizer.opt_state.hyperparams["learning_rate"][...] = lr
            grad_fn = nnx.value_and_grad(lambda module: loss(module(x[batch]), targets[batch]))
            value, grads = grad_fn(module)
            optimizer.update(module, grads)
            return jax.tree.leaves(nnx.state((module, optimizer))), value

        def train_scan(leaves, x, targets, batches, lr):
            """`train_step` on each row of `batches` in turn, as one `jax.lax.scan`."""
            step = lambda leaves, batch: train_step(leaves, x, targets, batch, lr)  # noqa: E731
            return jax.lax.scan(step, leaves, batches)

        self._step = jax.jit(train_step, donate_argnums=0)
        self._scan = jax.jit(train_scan, donate_argnums=0)
        self._compiled: dict[tuple[int, ...], Callable[..., Any]] = {}
        start = time.perf_counter()
        self.compile_for(spec.training.batch_size or len(x), len(x))
        self.compile_seconds = time.perf_counter() - start

    def compile_for(self, batch_size: int, n: int) -> None:
        """Compile the steps of an epoch of `n` samples at `batch_size` (its full batches
        and its last, shorter one), unless compiled already."""
        full, rest = divmod(n, batch_size)
        if full:
            self._compiled_for((full, batch_size) if self.scan else (batch_size,))
        if rest and not self.spec.training.drop_last:
            self._compiled_for((rest,))

    def _compiled_for(self, shape: tuple[int, ...]) -> Callable[..., Any]:
        """The compiled step for a batch of `shape` (batch size,), or the compiled scan
        for batches of `shape` (steps, batch size)."""
        if shape not in self._compiled:
            leaves = jax.tree.leaves(nnx.state((self.module, self.optimizer)))
            batches = jax.ShapeDtypeStruct(shape, jnp.int32)
            lr = jax.ShapeDtypeStruct((), self.dtype)
            jitted = self._scan if len(shape) == 2 else self._step
            lowered = jitted.lower(leaves, self.x, self.targets, batches, lr)
            self._compiled[shape] = lowered.compile()
        return self._compiled[shape]

    def epoch_order(self, order: np.ndarray) -> np.ndarray:
        """The epoch's sample order: the shared `order`, or with `batch_order = "framework"`
        (and shuffling) JAX's own, `jax.random.permutation` of every sample under a new
        key split from the seed's (cut to `len(order)`)."""
        training = self.spec.training
        if training.batch_order == "framework" and training.shuffle:
            self.key, key = jax.random.split(self.key)
            return np.asarray(jax.random.permutation(key, len(self.x)))[: len(order)]
        return np.asarray(order)

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order` (indices into the training data) at
        learning rate `lr`; returns the loss of each step as float64 numbers."""
        if batch_size < 1:
            raise ValueError(f"batch_size: must be ≥ 1, got {batch_size}")
        order = self.epoch_order(order).astype(np.int32)
        full = len(order) // batch_size * batch_size
        self.compile_for(batch_size, len(order))
        # Donation hands each step's input arrays over to its outputs: start from copies, so
        # that the module and optimizer keep valid arrays until the epoch's end.
        state = jax.tree.leaves(nnx.state((self.module, self.optimizer)))
        leaves = [jnp.copy(leaf) for leaf in state]
        rate = jnp.asarray(lr, dtype=self.dtype)
        losses: list[jax.Array] = []  # on the device until every step is queued
        if self.scan and full:
            batches = jax.device_put(order[:full].reshape(-1, batch_size), self.device)
            leaves, scanned = self._compiled_for(batches.shape)(
                leaves, self.x, self.targets, batches, rate
            )
            losses.append(scanned)
            order = order[full:]
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            leaves, value = self._compiled_for(batch.shape)(
                leaves, self.x, self.targets, batch, rate
            )
            losses.append(value)
        nnx.update((self.module, self.optimizer), jax.tree.unflatten(self.treedef, leaves))
        values = [np.ravel(value) for value in jax.device_get(losses)]
        return np.concatenate([np.empty(0), *values]).astype(np.float64)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs a for inputs x (rows are samples), in the spec's dtype."""
        x = check_inputs(x, self.spec.network.layers[0])
        inputs = jax.device_put(np.asarray(x, dtype=self.dtype), self.device)
        return np.asarray(probabilities(self.module, inputs))

    def get_layers(self) -> list[Layer]:
        """The parameters as NumPy arrays, weights (out_features, in_features)."""
        return module_layers(self.module)

    def set_layers(self, layers: list[Layer]) -> None:
        """Copy `layers` into the parameters (the optimizer keeps its state)."""
        load_layers(self.module, layers)


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str = "auto",
    scan: bool | None = None,
) -> JaxEngine:
    """A `JaxEngine` for `spec` on (x, labels); `layers=None` draws the reference's
    initial weights (`mlp_numpy.initializers.initial_layers`), or Flax's with
    `init.draw = "framework"`."""
    return JaxEngine(spec, x, labels, layers=layers, device=device, scan=scan)
