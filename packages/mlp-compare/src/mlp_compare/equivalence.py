"""Step-by-step equivalence: the same initial weights and batches in every framework.

Each framework gets an engine built from the reference's initial weights
(`mlp_numpy.initializers.initial_layers`) and trains one batch at a time on the shared batch
order. Where a framework's built-ins follow other conventions than the reference's own
(`mlp_numpy.conventions`: Keras's ε̂, its velocity in steps, ...), the reference also runs
under that framework's conventions, and the framework is compared with that run: the
comparison proves that the built-in computes the documented formula. After every step we
compare with the reference (NumPy on the CPU when it runs):

    max_weight_diff[t] = max over all parameters |w_framework − w_reference|
    loss_diff[t]       = |loss_framework − loss_reference|  (batch t's loss, before its update)

In float64 the differences stay at rounding level (~1e-12); in float32 they grow slowly from
~1e-7. A difference that jumps to the size of the weights means the frameworks disagree.

To show why a difference grows, every step also records the parameter whose update differs
most from the reference's (`largest_update_gap`): both updates Δw = w_t − w_{t−1} there and,
for a ReLU unit, its kink margin min_n |z_n| over the batch's images (the unit's
pre-activation computed from the reference's weights before the step, in the training dtype).
Opposite updates of size ≈ η are Adam's normalized step m̂/(√v̂ + ε) turning a near-zero
gradient, rounded to different signs, into ±η; a kink margin within rounding of 0 means the
frameworks may disagree on whether the unit was active for that image.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mlp_compare import records
from mlp_compare.experiment import Variant
from mlp_compare.frameworks import Framework
from mlp_numpy import Layer, conventions
from mlp_numpy import make_engine as make_reference
from mlp_numpy.batches import epoch_batches
from mlp_numpy.conventions import ConventionError
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import ModelSpec


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


def _as_float64(layers: list[Layer]) -> list[Layer]:
    return [
        Layer(
            np.asarray(layer.weight, np.float64),
            None if layer.bias is None else np.asarray(layer.bias, np.float64),
        )
        for layer in layers
    ]


def kink_margin(layers: list[Layer], x: np.ndarray, layer: int, unit: int, dtype: str) -> float:
    """min over the images of |z| for hidden unit `unit` of `layer`, in the training dtype."""
    h = x.astype(dtype)
    for index, item in enumerate(layers[: layer + 1]):
        weight = item.weight.astype(dtype)
        z = h @ weight.T + (0 if item.bias is None else item.bias.astype(dtype))
        if index == layer:
            return float(np.min(np.abs(z[:, unit])))
        h = np.maximum(z, 0)
    raise ValueError(f"layer {layer} is not a hidden layer")


def largest_update_gap(
    before: list[Layer],
    after: list[Layer],
    reference_before: list[Layer],
    reference_after: list[Layer],
    x: np.ndarray,
    *,
    relu: bool,
    dtype: str,
) -> records.UpdateGap:
    """Where this step's update differs most from the reference's, and both updates there."""
    best: tuple[float, int, str, tuple[int, ...]] = (-1.0, 0, "weight", (0,))
    for index, (a, b, ra, rb) in enumerate(
        zip(before, after, reference_before, reference_after, strict=True)
    ):
        for name in ("weight", "bias"):
            if getattr(a, name) is None:
                continue
            gap = np.abs(
                (getattr(b, name) - getattr(a, name)) - (getattr(rb, name) - getattr(ra, name))
            )
            spot = np.unravel_index(
                int(np.nanargmax(gap)) if np.isfinite(gap).any() else 0, gap.shape
            )
            value = float(gap[spot]) if np.isfinite(gap[spot]) else np.inf
            if value > best[0]:
                best = (value, index, name, tuple(int(i) for i in spot))
    _, index, name, where = best
    hidden = index < len(before) - 1
    margin = kink_margin(reference_before, x, index, where[0], dtype) if relu and hidden else None

    def update(start: list[Layer], end: list[Layer]) -> float | None:
        value = float(getattr(end[index], name)[where] - getattr(start[index], name)[where])
        return value if np.isfinite(value) else None

    return records.UpdateGap(
        layer=index,
        parameter="weight" if name == "weight" else "bias",
        index=list(where),
        update=update(before, after),
        reference_update=update(reference_before, reference_after),
        kink_margin=margin if margin is None or np.isfinite(margin) else None,
    )


def run_equivalence(
    variant: Variant,
    train: tuple[np.ndarray, np.ndarray],
    plan: list[tuple[Framework, str]],
    steps: int,
) -> records.Equivalence:
    """Train every (framework, backend device) of `plan` `steps` single-batch steps in
    lockstep, beside the reference under each framework's conventions; the differences of
    each framework from the reference under its own conventions at every step. A framework
    whose backend refuses the spec (`ConventionError`: a pinned convention it has no
    built-in for) is left out and named in `not_run`."""
    x, labels = train
    start = initial_layers(variant.spec)
    engines = {}
    not_run = []
    for framework, device in plan:
        try:
            engines[(framework.name, device)] = framework.module.make_engine(
                variant.spec, x, labels, layers=start, device=device
            )
        except ConventionError as error:
            not_run.append(
                records.NotInLockstep(framework=framework.name, device=device, reason=str(error))
            )
    reference = (records.REFERENCE, "cpu")
    if reference not in engines and engines:  # no NumPy in the plan: the first framework's
        reference = next(iter(engines))
    elif reference not in engines:  # every framework left out: the reference alone
        engines[reference] = make_reference(variant.spec, x, labels, layers=start)
    # Whose conventions each framework's reference runs under; None: the reference's own.
    under = {key: _conventions(variant.spec, key[0]) for key in engines}
    for name in sorted({c for c in under.values() if c is not None}):
        spec = conventions.resolve(variant.spec, name)
        engines[(records.REFERENCE, name)] = make_reference(spec, x, labels, layers=start)

    def reference_of(key: tuple[str, str]) -> tuple[str, str]:
        name = under.get(key)
        return (
            reference
            if name is None or reference[0] != records.REFERENCE
            else (records.REFERENCE, name)
        )

    losses: dict[tuple[str, str], list[float]] = {key: [] for key in engines}
    weight_diffs: dict[tuple[str, str], list[float]] = {key: [] for key in engines}
    gaps: dict[tuple[str, str], list[records.UpdateGap]] = {key: [] for key in engines}
    relu = variant.spec.network.hidden == "relu"
    dtype = variant.spec.training.dtype
    previous = {key: _as_float64(start) for key in engines}
    compared = [key for key in under if key != reference]
    with np.errstate(all="ignore"):  # a diverging framework's weights overflow
        for batch, lr in step_batches(variant, len(labels), steps):
            layers = {}
            for key, engine in engines.items():
                losses[key].append(float(engine.train_batches(batch, len(batch), lr)[0]))
                layers[key] = _as_float64(engine.get_layers())
            for key in compared:
                ref = reference_of(key)
                weight_diffs[key].append(max_difference(layers[key], layers[ref]))
                gaps[key].append(
                    largest_update_gap(
                        previous[key],
                        layers[key],
                        previous[ref],
                        layers[ref],
                        x[batch],
                        relu=relu,
                        dtype=dtype,
                    )
                )
            previous = layers

    def finite(values: list[float]) -> list[float | None]:
        return [v if np.isfinite(v) else None for v in values]

    return records.Equivalence(
        variant=variant.name,
        reference=f"{reference[0]}/{reference[1]}",
        dtype="float64" if dtype == "float64" else "float32",
        steps=len(losses[reference]),
        optimizer=variant.spec.training.optimizer.name,
        lr=variant.spec.training.schedule.lr_at(0, variant.spec.training.epochs),
        curves=[
            records.Curve(
                framework=key[0],
                device=key[1],
                max_weight_diff=finite(weight_diffs[key]),
                loss_diff=finite(
                    [
                        abs(a - b)
                        for a, b in zip(losses[key], losses[reference_of(key)], strict=True)
                    ]
                ),
                losses=finite(losses[key]),
                largest_update_gap=gaps[key],
                reference_conventions=under[key] if reference[0] == records.REFERENCE else None,
            )
            for key in compared
        ],
        not_run=not_run,
    )


def _conventions(spec: ModelSpec, framework: str) -> str | None:
    """`framework` when its conventions change what `spec` computes against the
    reference's own (`mlp_numpy.conventions.differences`); None otherwise."""
    if framework == records.REFERENCE or framework not in conventions.BUILT_INS:
        return None
    return framework if conventions.differences(spec, records.REFERENCE, framework) else None


def remeasure(
    record: records.Experiment,
    plan: list[tuple[Framework, str]],
    steps: int,
    command: str,
    measured_at: str,
) -> records.Equivalence | None:
    """The lockstep equivalence of a recorded experiment, measured again with today's code.

    For run folders recorded before the equivalence kept its update gaps: the variant, data
    and spec come from the record, the frameworks from `plan`. The result says when and by
    which command it was measured, since it is newer than the runs beside it.
    """
    from mlp_compare.data import prepare
    from mlp_compare.experiment import from_record

    if len(plan) < 2:
        return None
    experiment = from_record(record)
    old = record.equivalence
    variants = [v for v in experiment.variants if v.init_from is None]
    chosen = next((v for v in variants if old and v.name == old.variant), variants[0])
    result = run_equivalence(chosen, prepare(experiment.data).train, plan, steps)
    result.remeasured = records.Remeasured(at=measured_at, command=command)
    return result
