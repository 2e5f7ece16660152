"""The framework-defaults study (the shipped `defaults` experiment, `experiment.study =
"defaults"`): what each default of PyTorch and Keras does to the same network, one at a time.

The experiment's variants (docs/experiments.md):

    pytorch-defaults   every PyTorch default (mlp_numpy.defaults), the reference's initial
                       weights and the shared batch order: the ablation's base, the same start
                       and batches in every framework for each seed
    <row variants>     the base with one default switched to Keras's value (`ROWS`)
    pytorch-tutorial   every PyTorch default, PyTorch's own init draw and DataLoader order
    keras-tutorial     every Keras default, Keras's own init draw and fit(shuffle=True) order

Two effects are measured for each switched default:

- on test accuracy, in every framework: Δ = mean over seeds of the variant minus the base's,
  in points. It lies beyond the seed spread when |Δ| > 2√2 σ / √k, σ the pooled standard
  deviation over the k seeds of the two configurations (2√2 σ / √k is the 95% bound of the
  difference of two means of k runs with standard deviation σ);
- on the weights, by the reference in float64: `measure` trains the base and the variant
  `STEPS` steps from the same initial weights on the same batches (the first 200 × 64
  training images) and reports max |w − w_base| / max |w_base|. The initialization row
  changes the start itself; the data-order row uses another permutation of the same images
  (the reference's own shuffling is the shared order).

The tutorial gap, tf(keras-tutorial) − torch(pytorch-tutorial), splits exactly into
[tf(keras-tutorial) − numpy(keras-tutorial)] (Keras against the reference with Keras's
defaults) + [numpy(keras-tutorial) − numpy(pytorch-tutorial)] (the defaults) +
[numpy(pytorch-tutorial) − torch(pytorch-tutorial)] (PyTorch against the reference).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mlp_compare.experiment import Experiment, ExperimentError
from mlp_compare.typed_results import NAMES, ExperimentResult
from mlp_numpy.batches import epoch_batches
from mlp_numpy.engine import NumpyEngine
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import ModelSpec

BASE = "pytorch-defaults"
TUTORIALS = {"torch": "pytorch-tutorial", "tf": "keras-tutorial"}
STEPS = 200
FRAMEWORKS = ("numpy", "torch", "tf")


@dataclass(frozen=True)
class Row:
    variant: str
    default: str
    pytorch: str
    keras: str


ROWS = (
    Row(
        "keras-init",
        "initialization",
        "nn.Linear: W, b ~ U(±1/√fan_in)",
        "Dense: Glorot-uniform W, zero b",
    ),
    Row("keras-eps", "Adam ε value", "1e-8", "1e-7"),
    Row("keras-eps-placement", "Adam ε placement", "η m̂/(√v̂ + ε)", "η_t m/(√v + ε̂)"),
    Row(
        "keras-loss-form",
        "cross-entropy form",
        "from logits",
        "clipped probabilities (documented; the TensorFlow backend uses the logits)",
    ),
    Row(
        "framework-order",
        "data order",
        "DataLoader(shuffle=True) generator",
        "fit(shuffle=True), TensorFlow's seed",
    ),
)


def check(experiment: Experiment) -> None:
    """The study needs its base, every row's variant and both tutorials."""
    names = {v.name for v in experiment.variants}
    needed = [BASE, *(r.variant for r in ROWS), *TUTORIALS.values()]
    missing = [n for n in needed if n not in names]
    if missing:
        raise ExperimentError(
            f"{experiment.name}: the defaults study needs the variants {', '.join(missing)}"
        )


def _float64(spec: ModelSpec) -> ModelSpec:
    return replace(spec, training=replace(spec.training, dtype="float64"))


def _train(spec: ModelSpec, x: np.ndarray, labels: np.ndarray, start: list, seed: int) -> list:
    engine = NumpyEngine(spec, x, labels, start)
    batch = spec.training.batch_size or len(x)
    taken, epoch = 0, 0
    while taken < STEPS:
        order = epoch_batches(len(x), batch, seed, epoch).order
        steps = min(STEPS - taken, -(-len(order) // batch))
        engine.train_batches(order[: steps * batch], batch, spec.training.schedule.lr_at(0, 1))
        taken, epoch = taken + steps, epoch + 1
    return engine.get_layers()


def relative_difference(layers: list, reference: list) -> tuple[float, float]:
    """max |w − w_reference| / max |w_reference|, and ‖w − w_reference‖ / ‖w_reference‖,
    over every weight and bias."""
    difference = scale = 0.0
    squares = reference_squares = 0.0
    for (w, b), (rw, rb) in zip(layers, reference, strict=True):
        for a, r in ((w, rw), (b, rb)):
            if r is not None:
                difference = max(difference, float(np.abs(a - r).max()))
                scale = max(scale, float(np.abs(r).max()))
                squares += float(((a - r) ** 2).sum())
                reference_squares += float((r**2).sum())
    return difference / scale, math.sqrt(squares / reference_squares)


def measure(experiment: Experiment, train: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Each row's effect on the weights after `STEPS` float64 reference steps (module doc)."""
    check(experiment)
    base = _float64(experiment.variant(BASE).spec)
    batch = base.training.batch_size or len(train[0])
    n = min(len(train[0]), STEPS * batch)
    x, labels = np.asarray(train[0][:n], dtype=np.float64), train[1][:n]
    seed = base.training.seed
    start = initial_layers(base)
    reference = _train(base, x, labels, start, seed)
    rows = []
    for row in ROWS:
        spec = _float64(experiment.variant(row.variant).spec)
        if row.variant == "keras-init":
            layers, note = _train(spec, x, labels, initial_layers(spec), seed), "another start"
        elif row.variant == "framework-order":
            layers, note = _train(spec, x, labels, start, seed + 1), "another permutation"
        else:
            layers, note = _train(spec, x, labels, start, seed), "same start and batches"
        largest, norm = relative_difference(layers, reference)
        rows.append(
            {
                "variant": row.variant,
                "relative_weight_difference": largest,
                "relative_norm_difference": norm,
                "note": note,
            }
        )
    return {"steps": STEPS, "samples": n, "dtype": "float64", "rows": rows}


@dataclass(frozen=True)
class Effect:
    """A variant's test accuracy against the base's in one framework, over seeds."""

    framework: str
    delta: float | None  # mean difference (fraction); None where either did not run
    sigma: float  # pooled standard deviation over seeds
    seeds: int
    reason: str | None = None

    @property
    def threshold(self) -> float:
        return 2 * math.sqrt(2) * self.sigma / math.sqrt(max(self.seeds, 1))

    @property
    def beyond(self) -> bool:
        return self.delta is not None and self.seeds > 1 and abs(self.delta) > self.threshold

    def text(self) -> str:
        name = NAMES[self.framework]
        if self.delta is None:
            return f"{name}: not run ({self.reason})"
        mark = " *beyond noise*" if self.beyond else ""
        return (
            f"{name} {100 * self.delta:+.2f} ± {100 * self.threshold:.2f}{mark}"
            if self.seeds > 1
            else f"{name} {100 * self.delta:+.2f} (one seed)"
        )


def accuracies(experiment: ExperimentResult, variant: str, framework: str) -> list[float]:
    return [
        r.test_accuracy
        for r in experiment.runs
        if r.variant == variant
        and r.framework == framework
        and r.device == "cpu"
        and r.finished
        and r.test_accuracy is not None
    ]


def _reason(experiment: ExperimentResult, variant: str, framework: str) -> str:
    for run in experiment.runs:
        if run.variant == variant and run.framework == framework and not run.finished:
            reason = (run.reason or run.status).split(": ", 1)[-1]
            return reason if len(reason) <= 120 else reason[:120].rsplit(" ", 1)[0] + " …"
    return "no finished run"


def effect(experiment: ExperimentResult, variant: str, base: str, framework: str) -> Effect:
    """Mean test accuracy of `variant` minus `base`'s, in `framework`, and its noise bound."""
    a, b = accuracies(experiment, variant, framework), accuracies(experiment, base, framework)
    if not a or not b:
        missing = variant if not a else base
        return Effect(framework, None, 0.0, 0, _reason(experiment, missing, framework))
    variances = [statistics.variance(v) for v in (a, b) if len(v) > 1]
    sigma = math.sqrt(statistics.fmean(variances)) if variances else 0.0
    return Effect(framework, statistics.fmean(a) - statistics.fmean(b), sigma, min(len(a), len(b)))


def table(raw: dict[str, Any], experiment: ExperimentResult) -> list[str]:
    """The study's table, one row per default."""
    study = raw["defaults_study"]
    weights = {r["variant"]: r for r in study["rows"]}
    lines = [
        "| default | PyTorch | Keras | effect on test accuracy (points, mean difference ± "
        "noise bound over seeds) | effect on the weights after "
        f"{study['steps']} float64 steps from the same start |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        effects = "; ".join(effect(experiment, row.variant, BASE, f).text() for f in FRAMEWORKS)
        if row.variant == "framework-order":
            effects += " (NumPy's own shuffling is the shared order: the same runs as the base)"
        w = weights[row.variant]
        lines.append(
            f"| {row.default} | {row.pytorch} | {row.keras} | {effects} | "
            f"{w['relative_weight_difference']:.1e} largest, {w['relative_norm_difference']:.1e} "
            f"in norm ({w['note']}) |"
        )
    return lines


def tutorial_gap(experiment: ExperimentResult) -> dict[str, Effect] | None:
    """The tutorial gap and its three parts, each as an Effect (module doc)."""
    keras, torch = TUTORIALS["tf"], TUTORIALS["torch"]

    def between(a: tuple[str, str], b: tuple[str, str]) -> Effect:
        x, y = accuracies(experiment, *a), accuracies(experiment, *b)
        if not x or not y:
            return Effect(a[1], None, 0.0, 0, "no finished run")
        variances = [statistics.variance(v) for v in (x, y) if len(v) > 1]
        sigma = math.sqrt(statistics.fmean(variances)) if variances else 0.0
        return Effect(a[1], statistics.fmean(x) - statistics.fmean(y), sigma, min(len(x), len(y)))

    parts = {
        "gap": between((keras, "tf"), (torch, "torch")),
        "keras_framework": between((keras, "tf"), (keras, "numpy")),
        "defaults": between((keras, "numpy"), (torch, "numpy")),
        "torch_framework": between((torch, "numpy"), (torch, "torch")),
    }
    return None if any(p.delta is None for p in parts.values()) else parts


def findings(raw: dict[str, Any], experiment: ExperimentResult) -> list[str]:
    """The study's finding, written from its numbers."""
    seeds = max((len(accuracies(experiment, BASE, f)) for f in FRAMEWORKS), default=0)
    epochs = raw["spec"]["training"]["epochs"]
    matter, quiet = [], []
    for row in ROWS:
        effects = [effect(experiment, row.variant, BASE, f) for f in FRAMEWORKS]
        ran = [e for e in effects if e.delta is not None]
        beyond = [e for e in ran if e.beyond]
        if beyond:
            matter.append(f"{row.default} ({'; '.join(e.text() for e in beyond)})")
        elif ran:
            largest = max(ran, key=lambda e: abs(e.delta or 0.0))
            quiet.append(f"{row.default} (largest: {largest.text()})")
    lines = []
    where = f"after {epochs} epoch{'s' if epochs != 1 else ''}, {seeds} seeds"
    if seeds < 2:
        lines.append(
            f"With one seed there is no seed spread to judge the effects against ({where[:-8]}); "
            "run with --seeds."
        )
    elif matter:
        lines.append(
            f"Defaults that change test accuracy beyond the seed spread ({where}): "
            + "; ".join(matter)
            + "."
        )
    else:
        lines.append(f"No default changes test accuracy beyond the seed spread ({where}).")
    if quiet:
        lines.append("Within the seed spread: " + "; ".join(quiet) + ".")
    weights = raw["defaults_study"]["rows"]
    biggest = max(weights, key=lambda r: r["relative_norm_difference"])
    row = next(r for r in ROWS if r.variant == biggest["variant"])
    lines.append(
        f"On the weights, after {raw['defaults_study']['steps']} float64 steps, the largest "
        f"change is the {row.default}'s ({biggest['relative_norm_difference']:.1e} of the "
        f"weights' norm, {biggest['note']}); "
        + ", ".join(
            f"{next(r.default for r in ROWS if r.variant == w['variant'])} "
            f"{w['relative_norm_difference']:.1e}"
            for w in weights
            if w is not biggest
        )
        + ". A change at rounding level (about 1e-14) means the default did not act in "
        "those steps."
    )
    parts = tutorial_gap(experiment)
    if parts is None:
        lines.append(
            "The tutorial gap cannot be split: a tutorial variant did not finish in every "
            "framework it needs."
        )
        return lines
    gap = parts["gap"]

    def part(effect: Effect) -> str:
        if effect.seeds < 2:
            return f"{100 * (effect.delta or 0.0):+.2f} points (one seed, no spread)"
        verdict = "beyond noise" if effect.beyond else "within noise"
        bound = 100 * effect.threshold
        return f"{100 * (effect.delta or 0.0):+.2f} points ({verdict}, bound {bound:.2f})"

    lines.append(
        f"The tutorial gap, Keras as its tutorial writes it minus PyTorch as its tutorial "
        f"writes it, is {part(gap)}. Of it, the defaults (the reference trained with Keras's "
        f"defaults minus with PyTorch's) account for {part(parts['defaults'])}; the "
        f"frameworks themselves for {part(parts['keras_framework'])} (Keras against the "
        f"reference with Keras's defaults) and {part(parts['torch_framework'])} (the reference "
        "with PyTorch's defaults against PyTorch)."
    )
    return lines


def report_lines(raw: dict[str, Any], experiment: ExperimentResult) -> list[str]:
    """The study's section of report.md: the table and the finding."""
    if not raw.get("defaults_study"):
        return []
    return [
        "",
        "### The framework-defaults study",
        "",
        f"Base: `{BASE}` (every PyTorch default; the reference's initial weights and the "
        "shared batch order in every framework). Each row switches one default to Keras's "
        "value. Test-accuracy effects are the mean over seeds of the row's variant minus the "
        "base's, per framework, ± the noise bound 2√2 σ/√k (σ: the pooled standard deviation "
        "over the k seeds); *beyond noise* marks a larger one.",
        "",
        *table(raw, experiment),
        "",
        *[f"- {line}" for line in findings(raw, experiment)],
    ]


def seed_table(raw: dict[str, Any]) -> list[str]:
    """Each configuration's test accuracy over seeds: mean ± std (min–max), in percent."""
    from mlp_compare.seeds import text

    summary = raw.get("seed_summary") or []
    if not summary:
        return []
    lines = [
        "",
        "Over seeds (test accuracy in %: mean ± sample standard deviation, min–max):",
        "",
        "| variant | framework | seeds | test accuracy | final loss |",
        "|---|---|---|---|---|",
    ]
    for entry in summary:
        metrics = entry["metrics"]
        accuracy = metrics.get("final_test_accuracy")
        loss = metrics.get("final_loss")
        lines.append(
            f"| {entry['variant']} | {NAMES[entry['framework']]}/{entry['device']} | "
            f"{len(entry['seeds'])} | {text(accuracy) if accuracy else '—'} | "
            f"{text(loss, 1.0, 4) if loss else '—'} |"
        )
    return lines
