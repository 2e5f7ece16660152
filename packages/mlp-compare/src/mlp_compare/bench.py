"""Timings of one training epoch, measured side by side in one process.

For each framework × device, on the 60 000 MNIST training images:

    engine      the backend's own training loop (`make_engine(...).train_batches`), the one
                `mlp-compare run` uses
    products    the matrix products of the same epoch alone, in the same framework and
                device: per step and layer l, the forward h_l = h_{l-1} W_lᵀ, the weight
                gradient δ_lᵀ h_{l-1} and (below the top layer) δ_l W_l. No activations, no
                loss, no updates: the floor a training loop can approach.
    dataloader  the idiomatic PyTorch loop: DataLoader over a TensorDataset, nn.Sequential,
                CrossEntropyLoss, torch.optim.SGD
    model.fit   the idiomatic Keras loop: a Sequential of Dense layers, compile, fit

Every figure is seconds per epoch after a warm-up; ratios are within this one run, so they
hold on a busy machine where absolute times do not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec

if TYPE_CHECKING:
    from mlp_compare.runner import Target

LR = 0.01


def bench_spec(sizes: list[int], batch_size: int) -> ModelSpec:
    """ReLU hidden layers, softmax and cross-entropy, He init, plain SGD at a constant rate."""
    return ModelSpec.from_dict({
        "network": {"layers": sizes, "hidden": "relu", "output": "softmax"},
        "loss": {"name": "cross_entropy"},
        "init": {"scheme": "he_normal"},
        "training": {
            "batch_size": batch_size,
            "optimizer": {"name": "sgd"},
            "schedule": {"name": "constant", "lr": LR},
        },
    })  # fmt: skip


def per_epoch(run_epoch: Callable[[int], None], epochs: int) -> float:
    """Seconds per epoch: one warm-up epoch, then the mean of `epochs` timed ones."""
    run_epoch(0)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        run_epoch(epoch)
    return (time.perf_counter() - start) / epochs


def run_bench(
    plan: list[Target],
    train: tuple[np.ndarray, np.ndarray],
    sizes: list[int],
    batch_size: int,
    epochs: int,
    *,
    idiomatic: bool = True,
) -> dict[str, Any]:
    """Time every measure for every target on `train`; rows carry ratios to the products."""
    spec = bench_spec(sizes, batch_size)
    x, labels = train
    n = len(labels)
    steps = len(epoch_batches(n, batch_size, 0, 0))
    rows: list[dict[str, Any]] = []
    for target in plan:
        measures: dict[str, Callable[[], float]] = {
            "products": partial(products_epoch, target, sizes, n, batch_size, epochs),
            "engine": partial(engine_epoch, target, spec, x, labels, epochs),
        }
        if idiomatic and target.framework.name == "torch":
            measures["dataloader"] = partial(
                dataloader_epoch, target, sizes, x, labels, batch_size, epochs
            )
        if idiomatic and target.framework.name == "tf":
            measures["model.fit"] = partial(
                keras_fit_epoch, target, sizes, x, labels, batch_size, epochs
            )
        seconds: dict[str, float] = {}
        for measure, timer in measures.items():
            row: dict[str, Any] = {
                "framework": target.framework.name,
                "device": target.device,
                "backend_device": target.backend_device,
                "measure": measure,
                "status": "skipped",
                "reason": target.reason,
            }
            if target.reason is None:
                seconds[measure] = timer()
                row.update(
                    status="ok",
                    seconds_per_epoch=seconds[measure],
                    seconds_per_step=seconds[measure] / steps,
                )
                if measure != "products" and "products" in seconds:
                    row["ratio_to_products"] = seconds[measure] / seconds["products"]
                if measure in ("dataloader", "model.fit"):
                    row["ratio_to_engine"] = seconds[measure] / seconds["engine"]
            rows.append(row)
            if target.reason is not None:
                break
    return {
        "layers": sizes,
        "batch_size": batch_size,
        "samples": n,
        "steps_per_epoch": steps,
        "timed_epochs": epochs,
        "dtype": spec.training.dtype,
        "rows": rows,
    }


def engine_epoch(
    target: Target, spec: ModelSpec, x: np.ndarray, labels: np.ndarray, epochs: int
) -> float:
    engine = target.framework.module.make_engine(spec, x, labels, device=target.device_name)
    n, batch_size = len(labels), spec.training.batch_size

    def run_epoch(epoch: int) -> None:
        engine.train_batches(epoch_batches(n, batch_size, 0, epoch).order, batch_size, LR)

    return per_epoch(run_epoch, epochs)


def _shapes(sizes: list[int], n: int, batch_size: int) -> list[int]:
    """The batch size of every step of an epoch (the last one may be short)."""
    full, rest = divmod(n, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def products_epoch(target: Target, sizes: list[int], n: int, batch_size: int, epochs: int) -> float:
    name = target.framework.name
    if name == "numpy":
        return _numpy_products(sizes, n, batch_size, epochs)
    if name == "torch":
        return _torch_products(sizes, n, batch_size, epochs, target.device_name)
    return _tf_products(sizes, n, batch_size, epochs, target.device_name)


def _numpy_products(sizes: list[int], n: int, batch_size: int, epochs: int) -> float:
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((o, i), dtype=np.float32) for i, o in pairwise(sizes)]
    grads = [np.empty_like(w) for w in weights]
    acts = [rng.standard_normal((batch_size, s), dtype=np.float32) for s in sizes]
    deltas = [np.empty((batch_size, s), dtype=np.float32) for s in sizes]
    steps = _shapes(sizes, n, batch_size)

    def run_epoch(epoch: int) -> None:
        for b in steps:
            for layer, w in enumerate(weights):
                np.matmul(acts[layer][:b], w.T, out=acts[layer + 1][:b])
            for layer in range(len(weights) - 1, -1, -1):
                np.matmul(acts[layer + 1][:b].T, acts[layer][:b], out=grads[layer])
                if layer:
                    np.matmul(acts[layer + 1][:b], weights[layer], out=deltas[layer][:b])

    return per_epoch(run_epoch, epochs)


def _torch_products(sizes: list[int], n: int, batch_size: int, epochs: int, device: str) -> float:
    import torch

    gen = torch.Generator().manual_seed(0)
    weights = [torch.randn(o, i, generator=gen).to(device) for i, o in pairwise(sizes)]
    grads = [torch.empty_like(w) for w in weights]
    acts = [torch.randn(batch_size, s, generator=gen).to(device) for s in sizes]
    deltas = [torch.empty(batch_size, s, device=device) for s in sizes]
    steps = _shapes(sizes, n, batch_size)

    def run_epoch(epoch: int) -> None:
        for b in steps:
            for layer, w in enumerate(weights):
                torch.mm(acts[layer][:b], w.T, out=acts[layer + 1][:b])
            for layer in range(len(weights) - 1, -1, -1):
                torch.mm(acts[layer + 1][:b].T, acts[layer][:b], out=grads[layer])
                if layer:
                    torch.mm(acts[layer + 1][:b], weights[layer], out=deltas[layer][:b])
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    with torch.no_grad():
        return per_epoch(run_epoch, epochs)


def _tf_products(sizes: list[int], n: int, batch_size: int, epochs: int, device: str) -> float:
    import tensorflow as tf

    with tf.device(device):
        rng = np.random.default_rng(0)
        weights = [
            tf.constant(rng.standard_normal((o, i), dtype=np.float32)) for i, o in pairwise(sizes)
        ]
        x = tf.constant(rng.standard_normal((batch_size, sizes[0]), dtype=np.float32))
        full, rest = divmod(n, batch_size)

        @tf.function
        def run_steps(count: tf.Tensor, b: int) -> tf.Tensor:
            total = tf.constant(0.0)
            for _ in tf.range(count):
                acts = [x[:b]]
                for w in weights:
                    acts.append(tf.matmul(acts[-1], w, transpose_b=True))
                for layer in range(len(weights) - 1, -1, -1):
                    grad = tf.matmul(acts[layer + 1], acts[layer], transpose_a=True)
                    total += grad[0, 0]
                    if layer:
                        total += tf.matmul(acts[layer + 1], weights[layer])[0, 0]
            return total

        def run_epoch(epoch: int) -> None:
            run_steps(tf.constant(full), batch_size).numpy()
            if rest:
                run_steps(tf.constant(1), rest).numpy()

        return per_epoch(run_epoch, epochs)


def dataloader_epoch(
    target: Target,
    sizes: list[int],
    x: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    epochs: int,
) -> float:
    """The loop most PyTorch tutorials write."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    device = target.device_name
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for i, o in pairwise(sizes):
        layers += [nn.Linear(i, o), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x), torch.from_numpy(labels)),
        batch_size=batch_size,
        shuffle=True,
    )

    def run_epoch(epoch: int) -> None:
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    return per_epoch(run_epoch, epochs)


def keras_fit_epoch(
    target: Target,
    sizes: list[int],
    x: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    epochs: int,
) -> float:
    """The loop most Keras tutorials write: compile, then fit."""
    import keras
    import tensorflow as tf

    with tf.device(target.device_name):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((sizes[0],))]
            + [keras.layers.Dense(s, activation="relu") for s in sizes[1:-1]]
            + [keras.layers.Dense(sizes[-1], activation="softmax")]
        )
        model.compile(optimizer=keras.optimizers.SGD(LR), loss="sparse_categorical_crossentropy")

        def run_epoch(epoch: int) -> None:
            model.fit(x, labels, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)

        return per_epoch(run_epoch, epochs)
