"""The framework-defaults study: what each framework default does to the same network.

The experiment describes the study (its `[study]` table and each row variant's `default`,
docs/experiments.md): a base variant, row variants that each switch one default, and
tutorial variants, each framework as its tutorial writes it. This module computes the
study's statistics; `mlp_compare.prose` writes them as sentences and tables.

Two effects are measured for each row:

- on test accuracy, in every framework: Δ = mean over seeds of the row's variant minus the
  base's. It lies beyond the seed spread when |Δ| > 2√2 σ / √k, σ the pooled standard
  deviation over the k seeds of the two configurations (2√2 σ / √k is the 95% bound of the
  difference of two means of k runs with standard deviation σ);
- on the weights, by the reference in float64 (`measure`): the base and the row's variant
  trained `STEPS` steps on the same batches (the first 200 × batch training images) from the
  same initial weights, and max |w − w_base| / max |w_base|. A row whose variant changes the
  initialization starts from its own initial weights; one that changes the batch order
  trains on another permutation of the same images (the reference's own shuffling is the
  shared order).

The tutorial gap between tutorial B (framework b) and the first tutorial A (framework a),
b(B) − a(A), splits exactly into [b(B) − ref(B)] (b against the reference with B's defaults)
+ [ref(B) − ref(A)] (the defaults) + [ref(A) − a(A)] (the reference against a).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

import numpy as np

from mlp_compare import records
from mlp_compare.experiment import Experiment
from mlp_numpy import Layer
from mlp_numpy.batches import epoch_batches
from mlp_numpy.engine import NumpyEngine
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import ModelSpec

STEPS = 200


def _float64(spec: ModelSpec) -> ModelSpec:
    return replace(spec, training=replace(spec.training, dtype="float64"))


def _train(
    spec: ModelSpec, x: np.ndarray, labels: np.ndarray, start: list[Layer], seed: int
) -> list[Layer]:
    engine = NumpyEngine(spec, x, labels, start)
    batch = spec.training.batch_size or len(x)
    taken, epoch = 0, 0
    while taken < STEPS:
        order = epoch_batches(len(x), batch, seed, epoch).order
        steps = min(STEPS - taken, -(-len(order) // batch))
        engine.train_batches(order[: steps * batch], batch, spec.training.schedule.lr_at(0, 1))
        taken, epoch = taken + steps, epoch + 1
    return engine.get_layers()


def relative_difference(layers: list[Layer], reference: list[Layer]) -> tuple[float, float]:
    """max |w − w_reference| / max |w_reference|, and ‖w − w_reference‖ / ‖w_reference‖,
    over every weight and bias."""
    difference = scale = 0.0
    squares = reference_squares = 0.0
    for (w, b), (rw, rb) in zip(layers, reference, strict=True):
        for a, r in ((w, rw), (b, rb)):
            if r is not None and a is not None:
                difference = max(difference, float(np.abs(a - r).max()))
                scale = max(scale, float(np.abs(r).max()))
                squares += float(((a - r) ** 2).sum())
                reference_squares += float((r**2).sum())
    return difference / scale, math.sqrt(squares / reference_squares)


def measure(
    experiment: Experiment, train: tuple[np.ndarray, np.ndarray]
) -> records.DefaultsWeights:
    """Each row's effect on the weights after `STEPS` float64 reference steps (module doc)."""
    assert experiment.study is not None
    base = _float64(experiment.variant(experiment.study.base).spec)
    batch = base.training.batch_size or len(train[0])
    n = min(len(train[0]), STEPS * batch)
    x, labels = np.asarray(train[0][:n], dtype=np.float64), train[1][:n]
    seed = base.training.seed
    start = initial_layers(base)
    reference = _train(base, x, labels, start, seed)
    rows = []
    for variant in experiment.variants:
        if variant.default is None:
            continue
        spec = _float64(variant.spec)
        own_start = spec.init != base.init
        other_order = spec.training.batch_order != base.training.batch_order
        layers = _train(
            spec,
            x,
            labels,
            initial_layers(spec) if own_start else start,
            seed + 1 if other_order else seed,
        )
        largest, norm = relative_difference(layers, reference)
        rows.append(
            records.WeightEffect(
                variant=variant.name,
                relative_weight_difference=largest,
                relative_norm_difference=norm,
                own_start=own_start,
                other_order=other_order,
            )
        )
    return records.DefaultsWeights(steps=STEPS, samples=n, dtype="float64", rows=rows)


@dataclass(frozen=True)
class Effect:
    """Mean test accuracy of one configuration minus another's, over seeds."""

    framework: str
    delta: float | None  # mean difference (fraction); None where either did not finish
    sigma: float  # pooled standard deviation over seeds
    seeds: int
    missing: records.Run | None = None  # a run that did not finish, where delta is None
    identical: bool = False  # every seed predicted exactly what the other configuration did

    @property
    def threshold(self) -> float:
        return 2 * math.sqrt(2) * self.sigma / math.sqrt(max(self.seeds, 1))

    @property
    def beyond(self) -> bool:
        return self.delta is not None and self.seeds > 1 and abs(self.delta) > self.threshold


def _runs(experiment: records.Experiment, variant: str, framework: str) -> list[records.Run]:
    return [
        r
        for r in experiment.runs
        if r.variant == variant
        and r.framework == framework
        and r.device == "cpu"
        and r.conventions is None
    ]


def accuracies(experiment: records.Experiment, variant: str, framework: str) -> list[float]:
    return [
        r.test_accuracy
        for r in _runs(experiment, variant, framework)
        if r.finished and r.test_accuracy is not None
    ]


def between(
    experiment: records.Experiment, a: tuple[str, str], b: tuple[str, str], framework: str
) -> Effect:
    """(variant, framework) `a` minus `b` in mean test accuracy, named after `framework`."""
    x, y = accuracies(experiment, *a), accuracies(experiment, *b)
    if not x or not y:
        unfinished = [r for r in _runs(experiment, *(a if not x else b)) if not r.finished]
        return Effect(framework, None, 0.0, 0, unfinished[0] if unfinished else None)
    variances = [statistics.variance(v) for v in (x, y) if len(v) > 1]
    sigma = math.sqrt(statistics.fmean(variances)) if variances else 0.0
    first = {r.seed: r.test_predictions for r in _runs(experiment, *a) if r.finished}
    second = {r.seed: r.test_predictions for r in _runs(experiment, *b) if r.finished}
    identical = first == second and None not in first.values()
    return Effect(
        framework,
        statistics.fmean(x) - statistics.fmean(y),
        sigma,
        min(len(x), len(y)),
        identical=identical,
    )


@dataclass(frozen=True)
class Row:
    """One switched default: its effect on test accuracy in each framework, and on the
    weights where they were measured."""

    variant: str
    default: records.Default
    effects: tuple[Effect, ...]
    weights: records.WeightEffect | None


@dataclass(frozen=True)
class TutorialGap:
    """Tutorial `other` against tutorial `first`, split into its three parts."""

    first: records.Tutorial
    other: records.Tutorial
    gap: Effect
    other_framework: Effect  # other's framework against the reference with its defaults
    defaults: Effect  # the reference with other's defaults against with first's
    first_framework: Effect  # the reference with first's defaults against first's framework

    @property
    def complete(self) -> bool:
        parts = (self.gap, self.other_framework, self.defaults, self.first_framework)
        return all(p.delta is not None for p in parts)


@dataclass(frozen=True)
class StudyResult:
    study: records.Study
    epochs: int
    seeds: int
    rows: tuple[Row, ...]
    weights: records.DefaultsWeights | None
    gaps: tuple[TutorialGap, ...]

    @property
    def largest_weight_effect(self) -> records.WeightEffect | None:
        if self.weights is None or not self.weights.rows:
            return None
        return max(self.weights.rows, key=lambda r: r.relative_norm_difference)


def frameworks(experiment: records.Experiment) -> list[str]:
    """The frameworks with runs in the experiment, in run order."""
    return list(dict.fromkeys(r.framework for r in experiment.runs if r.conventions is None))


def analyse(experiment: records.Experiment) -> StudyResult | None:
    """The study's statistics; None for an experiment without a study."""
    study = experiment.study
    if study is None:
        return None
    ran = frameworks(experiment)
    measured = {
        w.variant: w
        for w in (
            experiment.defaults_weights
            or records.DefaultsWeights(steps=STEPS, samples=1, dtype="float64", rows=[])
        ).rows
    }
    rows = tuple(
        Row(
            v.name,
            v.default,
            tuple(between(experiment, (v.name, f), (study.base, f), f) for f in ran),
            measured.get(v.name),
        )
        for v in experiment.variants
        if v.default is not None
    )
    first = study.tutorials[0] if study.tutorials else None
    gaps = []
    reference = records.REFERENCE
    for other in study.tutorials[1:]:
        assert first is not None
        gaps.append(
            TutorialGap(
                first,
                other,
                gap=between(
                    experiment,
                    (other.variant, other.framework),
                    (first.variant, first.framework),
                    other.framework,
                ),
                other_framework=between(
                    experiment,
                    (other.variant, other.framework),
                    (other.variant, reference),
                    other.framework,
                ),
                defaults=between(
                    experiment, (other.variant, reference), (first.variant, reference), reference
                ),
                first_framework=between(
                    experiment,
                    (first.variant, reference),
                    (first.variant, first.framework),
                    first.framework,
                ),
            )
        )
    seeds = max((len(accuracies(experiment, study.base, f)) for f in ran), default=0)
    return StudyResult(
        study=study,
        epochs=int(experiment.spec["training"]["epochs"]),
        seeds=seeds,
        rows=rows,
        weights=experiment.defaults_weights,
        gaps=tuple(gaps),
    )
