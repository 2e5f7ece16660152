"""Step-by-step equivalence: the same initial weights and batches in every framework.

Each framework gets an engine built from the reference's initial weights
(`mlp_numpy.init.initial_layers`) and trains one batch at a time on the shared batch order.
After every step we compare with the reference (NumPy on the CPU when it runs):

    max_weight_diff[t] = max over all parameters |w_framework − w_reference|
    loss_diff[t]       = |loss_framework − loss_reference|  (batch t's loss, before its update)

In float64 the differences stay at rounding level (~1e-12); in float32 they grow slowly from
~1e-7. A difference that jumps to the size of the weights means the frameworks disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from mlp_compare.experiment import Variant
from mlp_numpy.batches import epoch_batches
from mlp_numpy.init import initial_layers

if TYPE_CHECKING:
    from mlp_compare.runner import Target


def step_batches(variant: Variant, n: int, steps: int) -> Iterator[tuple[np.ndarray, float]]:
    """The first `steps` batches of training and the learning rate of each."""
    training = variant.spec.training
    taken, epoch = 0, 0
    while taken < steps:
        lr = training.schedule.lr_at(epoch, training.epochs)
        batches = epoch_batches(
            n, training.batch_size, training.seed, epoch,
            shuffle=training.shuffle, drop_last=training.drop_last,
        )  # fmt: skip
        for batch in batches:
            if taken == steps:
                return
            yield batch, lr
            taken += 1
        epoch += 1


def max_difference(layers: list, reference: list) -> float:
    diff = 0.0
    for layer, ref in zip(layers, reference, strict=True):
        diff = max(diff, float(np.max(np.abs(np.asarray(layer.weight, np.float64) - ref.weight))))
        if ref.bias is not None:
            diff = max(diff, float(np.max(np.abs(np.asarray(layer.bias, np.float64) - ref.bias))))
    return diff


def run_equivalence(
    variant: Variant, train: tuple[np.ndarray, np.ndarray], plan: list[Target], steps: int
) -> dict[str, Any]:
    """Train every target `steps` single-batch steps in lockstep; differences per step."""
    x, labels = train
    start = initial_layers(variant.spec)
    engines = {
        (t.framework.name, t.backend_device): t.framework.module.make_engine(
            variant.spec, x, labels, layers=start, device=t.backend_device
        )
        for t in plan
    }
    reference = ("numpy", "cpu") if ("numpy", "cpu") in engines else next(iter(engines))
    losses: dict[tuple[str, str], list[float]] = {key: [] for key in engines}
    weight_diffs: dict[tuple[str, str], list[float]] = {key: [] for key in engines}
    for batch, lr in step_batches(variant, len(labels), steps):
        layers = {}
        for key, engine in engines.items():
            losses[key].append(float(engine.train_batches(batch, len(batch), lr)[0]))
            layers[key] = [
                type(layer)(np.asarray(layer.weight, np.float64),
                            None if layer.bias is None else np.asarray(layer.bias, np.float64))
                for layer in engine.get_layers()
            ]  # fmt: skip
        for key in engines:
            weight_diffs[key].append(max_difference(layers[key], layers[reference]))

    def finite(values: list[float]) -> list[float | None]:
        return [v if np.isfinite(v) else None for v in values]

    return {
        "variant": variant.name,
        "reference": f"{reference[0]}/{reference[1]}",
        "dtype": variant.spec.training.dtype,
        "steps": len(losses[reference]),
        "curves": [
            {
                "framework": key[0],
                "device": key[1],
                "max_weight_diff": finite(weight_diffs[key]),
                "loss_diff": finite(
                    [abs(a - b) for a, b in zip(losses[key], losses[reference], strict=True)]
                ),
                "losses": finite(losses[key]),
            }
            for key in engines
            if key != reference
        ],
    }
