"""Timings of one training epoch, measured side by side in one process.

For each framework × device, on the first n MNIST training images:

    engine      the backend's own training loop (`make_engine(...).train_batches`), the one
                `mlp-compare run` uses
    products    the matrix products of the same epoch alone, in the same framework and
                device (the backend's `products_epoch`): per step and layer l, the forward
                h_l = h_{l-1} W_lᵀ, the weight gradient δ_lᵀ h_{l-1} and (below the top
                layer) δ_l W_l. No activations, no loss, no updates: the floor a training
                loop can approach.
    tutorial    the loop the framework's own tutorials write (the backend's
                `tutorial_epoch`): a DataLoader loop for PyTorch, the default `model.fit`
                for Keras, the from-scratch loop of `mlp_numpy.tutorial` for NumPy

Every figure is seconds per epoch after a warm-up; ratios are within this one run, so they
hold on a busy machine where absolute times do not.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from mlp_numpy.backends import seconds_per_epoch
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


def run_bench(
    plan: list[Target],
    train: tuple[np.ndarray, np.ndarray],
    sizes: list[int],
    batch_size: int,
    epochs: int,
    *,
    tutorial: bool = True,
) -> dict[str, Any]:
    """Time every measure for every target on `train`; rows carry ratios to the products."""
    spec = bench_spec(sizes, batch_size)
    x, labels = train
    n = len(labels)
    steps = len(epoch_batches(n, batch_size, 0, 0))
    rows: list[dict[str, Any]] = []
    for target in plan:
        row = {
            "framework": target.framework.name,
            "device": target.device,
            "backend_device": target.backend_device,
        }
        if target.reason is not None:  # one row says why the target does not run
            rows.append(
                {**row, "measure": "products", "status": "skipped", "reason": target.reason}
            )
            continue
        backend, device = target.framework.module, target.device_name
        measures: dict[str, Callable[[], float]] = {
            "products": partial(backend.products_epoch, sizes, n, batch_size, epochs, device),
            "engine": partial(engine_epoch, target, spec, x, labels, epochs),
        }
        if tutorial:
            measures["tutorial"] = partial(
                backend.tutorial_epoch, sizes, x, labels, batch_size, epochs, device
            )
        seconds: dict[str, float] = {}
        for measure, timer in measures.items():
            seconds[measure] = timer()
            timed: dict[str, Any] = {
                **row,
                "measure": measure,
                "status": "ok",
                "reason": None,
                "seconds_per_epoch": seconds[measure],
                "seconds_per_step": seconds[measure] / steps,
            }
            if measure != "products":
                timed["ratio_to_products"] = seconds[measure] / seconds["products"]
            if measure == "tutorial":
                timed["ratio_to_engine"] = seconds[measure] / seconds["engine"]
            rows.append(timed)
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
    """An epoch of the backend's engine on the spec, as `mlp-compare run` trains."""
    engine = target.framework.module.make_engine(spec, x, labels, device=target.device_name)
    n, batch_size = len(labels), spec.training.batch_size

    def run_epoch(epoch: int) -> None:
        engine.train_batches(epoch_batches(n, batch_size, 0, epoch).order, batch_size, LR)

    return seconds_per_epoch(run_epoch, epochs)
