"""What the numbers say, as sentences: agreement, noise, divergence, speed. No layout here.

Every finding is computed from typed results (`mlp_compare.typed_results`) and obeys these
rules, so that no sentence contradicts the tables beside it:

- Only finished runs are compared. A run that diverged, failed, was interrupted or skipped is
  left out of every "same accuracy" statement and named next to it.
- Two accuracies are "the same" only within the noise threshold (`Noise`): with several seeds,
  2√2 σ of the seed spread; with one seed, 2√2 SE, where SE = √(p(1 − p)/n) is the binomial
  standard error of a test accuracy p measured on n images. 2√2 SE is two standard errors
  of the difference of two independent such estimates, about a 95% bound (p = 0.98,
  n = 10 000: 0.40 points).
- The frameworks "compute the same network" only where the lockstep equivalence stays at
  rounding level (`ROUNDING`) and no run diverged. A larger weight difference is reported as
  trajectories that part: at which step, how far, and why where the recorded update gaps
  show it (a ReLU kink within rounding of 0; opposite Adam steps of size ≈ η; an update that
  differs by more than rounding (`RELATIVE`) with no kink near, i.e. another gradient).
- Runs at chance level (below 1/classes + `CHANCE_MARGIN`) learned nothing: their equal
  accuracies are not called agreement.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from mlp_compare.typed_results import NAMES, Curve, Equivalence, ExperimentResult, Run, UpdateGap

# Largest |w − w_reference| over the equivalence steps that rounding alone explains.
ROUNDING = {"float32": 1e-4, "float64": 1e-9}
# Relative difference of one step's update beyond what rounding that step explains.
RELATIVE = {"float32": 1e-3, "float64": 1e-9}
# A ReLU pre-activation this close to 0 may round to either side in another framework.
KINK = {"float32": 1e-6, "float64": 1e-14}
CHANCE_MARGIN = 0.05  # a test accuracy below 1/classes + this has not learned
REFERENCE = ("numpy", "cpu")


@dataclass(frozen=True)
class Finding:
    """One sentence and what kind of statement it is (tests and the summary select by kind)."""

    # agreement, disagreement, chance, excluded, equivalent, parted, speed, noise, published
    kind: str
    text: str


@dataclass(frozen=True)
class Noise:
    """The smallest test-accuracy difference (a fraction) that noise does not explain."""

    threshold: float
    basis: str


def pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def pts(value: float) -> str:
    return f"{100 * value:.2f} points"


def names(items: list[Run] | list[Score]) -> str:
    labels = [r.label for r in items]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


@dataclass(frozen=True)
class Score:
    """One target's test accuracy in one variant: the mean over its finished seeds."""

    label: str
    target: tuple[str, str]
    accuracy: float
    seeds: int


def scores(experiment: ExperimentResult, variant: str) -> list[Score]:
    """Per target that finished the variant, its (seed-mean) test accuracy, in run order."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in experiment.runs_of(variant):
        if run.finished:
            groups.setdefault(run.target, []).append(run)
    return [
        Score(
            runs[0].label,
            target,
            statistics.mean(r.test_accuracy or 0.0 for r in runs),
            len(runs),
        )
        for target, runs in groups.items()
    ]


def noise(experiment: ExperimentResult, variant: str | None = None) -> Noise:
    """The seed spread when runs repeat with other seeds; else the binomial bound.

    The binomial bound takes p from the variant's finished runs (all of the experiment's
    without a variant): a run near 50% is noisier than one near 98%.
    """
    groups: dict[tuple[str, str, str], list[float]] = {}
    for run in experiment.finished:
        groups.setdefault((run.variant, *run.target), []).append(run.test_accuracy or 0.0)
    repeated = [values for values in groups.values() if len(values) > 1]
    if repeated:
        variance = statistics.mean(statistics.variance(v) for v in repeated)
        sigma = math.sqrt(variance)
        seeds = min(len(v) for v in repeated)
        return Noise(
            2 * math.sqrt(2) * sigma / math.sqrt(seeds),
            f"2√2 σ/√k for means over k = {seeds} seeds, where σ = {pts(sigma)} is the "
            f"standard deviation of test accuracy over seeds (pooled over {len(repeated)} "
            "configurations)",
        )
    accuracies = [
        r.test_accuracy
        for r in experiment.finished
        if r.test_accuracy is not None and variant in (None, r.variant)
    ]
    p = statistics.median(accuracies) if accuracies else 0.5
    n = experiment.test_size
    se = math.sqrt(max(p * (1 - p), 1e-12) / n)
    return Noise(
        2 * math.sqrt(2) * se,
        f"one seed only: 2√2 SE, where SE = √(p(1 − p)/n) = {pts(se)} is the binomial "
        f"standard error of a test accuracy p = {pct(p)} on n = {n:,} images",
    )


def not_run(experiment: ExperimentResult) -> list[Finding]:
    """Runs left out of every comparison: skipped targets once, other failures per variant."""
    findings = []
    skipped = list(dict.fromkeys(r.label for r in experiment.runs if r.status == "skipped"))
    if skipped:
        findings.append(
            Finding(
                "excluded",
                f"Not compared: {', '.join(skipped)} (skipped; see Not run).",
            )
        )
    for run in experiment.runs:
        if run.status not in ("ok", "skipped"):
            findings.append(
                Finding(
                    "excluded",
                    f"{run.variant}: {run.label} {run.outcome()}; it is left out of "
                    "every comparison.",
                )
            )
    return findings


def variant_agreement(experiment: ExperimentResult, variant: str) -> Finding:
    """Do the finished runs of one variant reach the same test accuracy, within noise?"""
    limit = noise(experiment, variant)
    runs = experiment.runs_of(variant)
    done = [r for r in runs if r.finished]
    left_out = [r for r in runs if r.status not in ("ok", "skipped")]
    without = (
        f" Left out: {'; '.join(f'{r.label} {r.outcome()}' for r in left_out)}." if left_out else ""
    )
    if len(done) < 2:
        which = f"only {done[0].label} finished" if done else "no run finished"
        return Finding("excluded", f"{variant}: {which}, so there is nothing to compare.{without}")
    scored = scores(experiment, variant)
    if len(scored) < 2:
        only = f"{variant}: only {scored[0].label} finished, so there is nothing to compare."
        return Finding("excluded", only + without)
    mean = " (means over seeds)" if any(s.seeds > 1 for s in scored) else ""
    accuracies = ", ".join(f"{s.label} {pct(s.accuracy)}" for s in scored)
    if all(s.accuracy < 1 / experiment.classes + CHANCE_MARGIN for s in scored):
        chance = pct(1 / experiment.classes)
        return Finding(
            "chance",
            f"{variant}: no finished run learned ({accuracies}{mean}; chance is {chance}), so "
            f"their accuracies say nothing about the frameworks.{without}",
        )
    low = min(scored, key=lambda s: s.accuracy)
    high = max(scored, key=lambda s: s.accuracy)
    spread = high.accuracy - low.accuracy
    if spread <= limit.threshold:
        return Finding(
            "agreement",
            f"{variant}: {names(scored)} reach the same test accuracy within noise{mean} "
            f"(spread {pts(spread)}, below the {pts(limit.threshold)} threshold).{without}",
        )
    median = statistics.median(s.accuracy for s in scored)
    outliers = [s for s in scored if abs(s.accuracy - median) > limit.threshold] or [low, high]
    apart = "; ".join(
        f"{s.label} {pct(s.accuracy)} ({100 * (s.accuracy - median):+.2f} points from the median)"
        for s in outliers
    )
    return Finding(
        "disagreement",
        f"{variant}: the test accuracies differ by more than noise ({pts(spread)} > "
        f"{pts(limit.threshold)}): {apart}. {why_apart(experiment, variant)}{without}",
    )


def why_apart(experiment: ExperimentResult, variant: str) -> str:
    """What the lockstep check says about accuracies that differ beyond noise.

    Runs that draw their own initial weights or shuffle in their own order are different
    experiments, whatever the lockstep check (on the shared weights and order) shows."""
    own = framework_choices(experiment.variant_specs.get(variant) or {})
    if own:
        return (
            f"Each framework {' and '.join(own)} in this variant, so the runs are different "
            "experiments and the gap measures those choices, not the arithmetic."
        )
    result = experiment.equivalence
    if result is None:
        return "No lockstep check ran, so whether the computations differ is not shown."
    parts = [f.kind for f in equivalence_findings(result)]
    if "parted" in parts:
        return "The lockstep check shows trajectories that part (see below)."
    steps = max((len(r.epoch_seconds) for r in experiment.runs_of(variant)), default=0)
    return (
        f"The lockstep check ({result.steps} steps of {result.variant}) shows the same "
        "computation to rounding, so the gap grows from rounding differences compounding "
        f"over the whole run ({steps} epochs), not from a different formula."
    )


def framework_choices(spec: dict[str, Any]) -> list[str]:
    """What a variant's spec (as a dict) leaves to each framework: its own draw of the
    initial weights (`init.draw`), its own batch order (`training.batch_order`)."""
    choices = []
    if spec.get("init", {}).get("draw") == "framework":
        choices.append("draws its own initial weights")
    if spec.get("training", {}).get("batch_order") == "framework":
        choices.append("shuffles the batches in its own order")
    return choices


def equivalence_findings(result: Equivalence) -> list[Finding]:
    """One sentence per framework: on the reference's trajectory, or where it parts from it."""
    bound = ROUNDING[result.dtype]
    where = (
        f"{result.variant}, {result.dtype}, {result.steps} steps from the same weights and batches"
    )
    findings = []
    for curve in result.curves:
        values = curve.weight_diff
        finite = [v for v in values if v is not None]
        if finite and len(finite) == len(values) and max(finite) <= bound:
            findings.append(
                Finding(
                    "equivalent",
                    f"{curve.label} follows {result.reference_label}'s trajectory ({where}): "
                    f"largest weight difference {max(finite):.1e}, at rounding level "
                    f"(≤ {bound:.0e}).",
                )
            )
            continue
        findings.append(Finding("parted", parted(result, curve, bound, where)))
    return findings


def parted(result: Equivalence, curve: Curve, bound: float, where: str) -> str:
    """At which step the trajectories part, how far, and why where the update gaps show it."""
    values = curve.weight_diff
    first = next(i for i, v in enumerate(values) if v is None or v > bound)
    last = values[-1]
    size = "weights that are no longer finite" if last is None else f"{last:.1e}"
    before = values[first - 1] if first > 0 else None
    start = f" from {before:.1e}" if before is not None else ""
    text = (
        f"{curve.label} parts from {result.reference_label}'s trajectory at step {first + 1} "
        f"({where}): the largest weight difference grows{start} to {size} by step "
        f"{len(values)}, beyond float rounding (≤ {bound:.0e})."
    )
    causes = []
    kink = KINK[result.dtype]
    for step, gap in enumerate(curve.gaps[: first + 1], start=1):
        if gap.kink_margin is not None and gap.kink_margin < kink:
            causes.append(
                f"at step {step} the unit behind {gap.name()} was {gap.kink_margin:.1e} from "
                f"its ReLU kink on one image, within {result.dtype} rounding, so the "
                "frameworks can disagree on whether it is active: that step's updates there "
                f"differ by {_gap_size(gap):.1e}"
            )
            break
    else:
        causes += _gradient_differs(result, curve.gaps[: first + 1])
    lr = result.lr
    for step, gap in enumerate(curve.gaps, start=1):
        u, r = gap.update, gap.reference_update
        if (
            result.optimizer == "adam"
            and lr is not None
            and u is not None
            and r is not None
            and u * r < 0
            and min(abs(u), abs(r)) > 0.1 * lr
        ):
            causes.append(
                f"at step {step} the updates of {gap.name()} have opposite signs ({u:+.1e} "
                f"against {r:+.1e}, lr {lr:g}): Adam's normalized step m̂/(√v̂ + ε) turns a "
                "near-zero gradient into a step of up to ±lr whatever its size, and its "
                "momentum keeps the two copies moving apart"
            )
            break
    if any(v is None for v in values) or (last is not None and last > 1.0):
        causes.append("the difference is as large as the weights: the runs have nothing in common")
    if causes:
        text += " Why: " + "; ".join(causes) + "."
    return text


def _gradient_differs(result: Equivalence, gaps: tuple[UpdateGap, ...]) -> list[str]:
    """An update that differs by more than the rounding of its own size, with no kink near.

    Adam's first step is −η g/(|g| + ε): one below 0.9 η means |g| < 9ε, a gradient near
    zero whose rounding Adam turns into a different step. Otherwise the gradient's sum may
    cancel (its terms far larger than the result, so their rounding is too), or the two
    compute it differently; the update alone cannot tell which, and the sentence says so.
    """
    for step, gap in enumerate(gaps, start=1):
        u, r = gap.update, gap.reference_update
        if u is None or r is None or r == 0 or u * r < 0:
            continue
        relative = abs(u - r) / abs(r)
        if relative <= RELATIVE[result.dtype]:
            continue
        differs = (
            f"at step {step} the update of {gap.name()} differs by {100 * relative:.2g}% "
            f"({u:.4e} against {r:.4e})"
        )
        lr = result.lr
        if result.optimizer == "adam" and step == 1 and lr and max(abs(u), abs(r)) < 0.9 * lr:
            return [
                f"{differs}: Adam's first step is −lr·g/(|g| + ε), and one below 0.9·lr means "
                f"|g| < 9ε, a gradient near zero whose {result.dtype} rounding Adam turns into "
                "a different step"
            ]
        return [
            f"{differs} with no ReLU kink near, more than {result.dtype} rounding of the "
            "update itself gives: either the sum that forms this gradient cancels (its terms "
            "far larger than the result), or the two compute it differently"
        ]
    return []


def _gap_size(gap: UpdateGap) -> float:
    u, r = gap.update, gap.reference_update
    return abs(u - r) if u is not None and r is not None else math.nan


@dataclass(frozen=True)
class Speed:
    """One target's time per epoch relative to NumPy on the CPU, over an experiment's variants."""

    label: str
    ratios: tuple[float, ...]  # median epoch time ÷ NumPy's, one per variant

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)


def speeds(experiments: list[ExperimentResult]) -> list[Speed]:
    """Per target, the ratio of median epoch times to NumPy/cpu's, in every variant both ran."""
    ratios: dict[str, list[float]] = {}
    for experiment in experiments:
        for variant in experiment.variants:
            done = {r.target: r for r in experiment.runs_of(variant) if r.finished}
            reference = done.get(REFERENCE)
            base = reference.median_epoch_seconds if reference else None
            if not base:
                continue
            for target, run in done.items():
                if target != REFERENCE and run.median_epoch_seconds:
                    ratios.setdefault(run.label, []).append(run.median_epoch_seconds / base)
    return [Speed(label, tuple(values)) for label, values in ratios.items()]


def speed_text(speed: Speed) -> str:
    low, high = min(speed.ratios), max(speed.ratios)
    spread = f", {low:.2f}–{high:.2f}× across them" if len(speed.ratios) > 1 else ""
    return (
        f"{speed.label} takes {speed.median:.2f}× NumPy/cpu's time per epoch (median over "
        f"{len(speed.ratios)} variant{'s' * (len(speed.ratios) > 1)}{spread})"
    )


def epoch_spread(run: Run) -> str:
    """Median epoch time and its spread: '0.82 s (0.79–0.95)'."""
    seconds = run.epoch_seconds
    if not seconds:
        return "—"
    median = statistics.median(seconds)
    if len(seconds) == 1:
        return f"{median:.3f}"
    return f"{median:.3f} ({min(seconds):.3f}–{max(seconds):.3f})"


def warm_up(experiment: ExperimentResult) -> list[Finding]:
    """Targets whose first epoch is much slower than the median of the rest."""
    slow: dict[str, list[tuple[float, float]]] = {}
    for run in experiment.finished:
        seconds = run.epoch_seconds
        if len(seconds) < 3:
            continue
        later = statistics.median(seconds[1:])
        if seconds[0] > 3 * later and seconds[0] - later > 0.5:
            slow.setdefault(run.label, []).append((seconds[0], later))
    return [
        Finding(
            "speed",
            f"{label}: the first epoch took {max(f for f, _ in cases):.2f} s against a median "
            f"of {statistics.median(m for _, m in cases):.2f} s for the later ones (in "
            f"{len(cases)} run(s)): one-time tracing or compiling; medians leave it out.",
        )
        for label, cases in slow.items()
    ]


def agreements(experiment: ExperimentResult) -> list[Finding]:
    """Per variant, merging the plain agreements of the same runs into one sentence."""
    found = [(v, variant_agreement(experiment, v)) for v in experiment.variants]
    plain: dict[str, list[str]] = {}
    for variant, finding in found:
        if finding.kind == "agreement" and "Left out" not in finding.text:
            plain.setdefault(names(scores(experiment, variant)), []).append(variant)
    merged = {who: vs for who, vs in plain.items() if len(vs) > 1}
    findings = []
    for variant, finding in found:
        group = next((who for who, vs in merged.items() if variant in vs), None)
        if group is None:
            findings.append(finding)
        elif merged[group][0] == variant:
            findings.append(merged_agreement(experiment, group, merged[group]))
    return findings


def merged_agreement(experiment: ExperimentResult, who: str, variants: list[str]) -> Finding:
    spreads = []
    for variant in variants:
        accuracies = [s.accuracy for s in scores(experiment, variant)]
        spreads.append((max(accuracies) - min(accuracies), variant))
    largest, where = max(spreads)
    limits = [noise(experiment, v).threshold for v in variants]
    return Finding(
        "agreement",
        f"In {len(variants)} variants ({', '.join(variants)}) {who} reach the same test "
        f"accuracy within noise: largest spread {pts(largest)} ({where}), thresholds "
        f"{100 * min(limits):.2f}–{pts(max(limits))}.",
    )


def experiment_findings(experiment: ExperimentResult) -> list[Finding]:
    """Everything the report says about one experiment, in reading order."""
    findings = not_run(experiment) + agreements(experiment)
    limit = noise(experiment)
    findings.append(
        Finding(
            "noise",
            f"Noise: {limit.basis}; differences below 2√2 SE ({pts(limit.threshold)} here) "
            "cannot be told from noise."
            if limit.basis.startswith("one seed")
            else f"Noise: {limit.basis} = {pts(limit.threshold)}; smaller differences cannot "
            "be told from noise.",
        )
    )
    if experiment.equivalence is not None:
        if experiment.equivalence.remeasured:
            findings.append(
                Finding(
                    "noise",
                    f"The equivalence below was measured again, {experiment.equivalence.remeasured}"
                    ", with newer code than the training runs above.",
                )
            )
        findings += equivalence_findings(experiment.equivalence)
    findings += warm_up(experiment)
    return findings


@dataclass(frozen=True)
class Repeat:
    """The same configuration (data, spec, initial weights) run twice, by one target."""

    first: str  # "baseline/adam"
    second: str
    label: str
    accuracies: tuple[float, float]
    seconds: tuple[float, float]  # median epoch times

    @property
    def timing_change(self) -> float:
        """|a − b| / min(a, b): how much the same work's time moved between the two runs."""
        a, b = self.seconds
        return abs(a - b) / min(a, b)


def repeats(experiments: list[ExperimentResult]) -> list[Repeat]:
    """Every target's pair of runs of one configuration that appears twice in this run."""
    places: dict[str, list[tuple[ExperimentResult, str]]] = {}
    for experiment in experiments:
        for variant in experiment.variants:
            places.setdefault(experiment.configuration(variant), []).append((experiment, variant))
    found = []
    for group in places.values():
        for (ea, va), (eb, vb) in pairwise(group):
            first = {r.target: r for r in ea.runs_of(va) if r.finished}
            second = {r.target: r for r in eb.runs_of(vb) if r.finished}
            for target in [t for t in first if t in second]:
                a, b = first[target], second[target]
                if a.median_epoch_seconds and b.median_epoch_seconds:
                    found.append(
                        Repeat(
                            f"{ea.name}/{va}",
                            f"{eb.name}/{vb}",
                            a.label,
                            (a.test_accuracy or 0.0, b.test_accuracy or 0.0),
                            (a.median_epoch_seconds, b.median_epoch_seconds),
                        )
                    )
    return found


def repeat_findings(experiments: list[ExperimentResult]) -> list[Finding]:
    """What running the same thing twice shows: reproducible accuracy, noisy timings."""
    found = repeats(experiments)
    findings = []
    for pair in dict.fromkeys((r.first, r.second) for r in found):
        group = [r for r in found if (r.first, r.second) == pair]
        same = [r.label for r in group if r.accuracies[0] == r.accuracies[1]]
        moved = [
            f"{r.label} {pct(r.accuracies[0])} and {pct(r.accuracies[1])}"
            for r in group
            if r.accuracies[0] != r.accuracies[1]
        ]
        parts = [f"identical test accuracy for {', '.join(same)}"] if same else []
        parts += [f"different test accuracy for {', '.join(moved)}"] if moved else []
        accuracy = "; ".join(parts)
        times = ", ".join(
            f"{r.label} {r.seconds[0]:.3f} and {r.seconds[1]:.3f} s ({100 * r.timing_change:.0f}%)"
            for r in group
        )
        findings.append(
            Finding(
                "noise",
                f"`{pair[0]}` and `{pair[1]}` are the same configuration run twice: {accuracy}; "
                f"median epoch times {times}. That is the run-to-run timing noise here.",
            )
        )
    return findings


def same_network(experiments: list[ExperimentResult]) -> bool:
    """Every equivalence at rounding level, and no finished comparison broken by a failure."""
    checks = [e.equivalence for e in experiments if e.equivalence is not None]
    if not checks:
        return False
    for experiment in experiments:
        if any(r.status in ("diverged", "failed") for r in experiment.runs):
            return False
    return all(f.kind == "equivalent" for e in checks for f in equivalence_findings(e))


def summary(experiments: list[ExperimentResult]) -> list[str]:
    """The answer, in a few lines a reader sees first."""
    runs = [r for e in experiments for r in e.runs]
    if not runs:
        return ["No training run was recorded."]
    targets = list(dict.fromkeys(r.label for r in runs if r.finished))
    counts = {s: sum(r.status == s for r in runs) for s in ("ok", "diverged", "failed")}
    counts["not run"] = sum(r.status in ("skipped", "interrupted") for r in runs)
    variants = sum(len(e.variants) for e in experiments)
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines = [
        f"**Compared:** {', '.join(targets) or 'nothing'} on {len(experiments)} experiment(s), "
        f"{variants} variant(s): {len(runs)} runs ({tally})."
    ]
    lines.append("**Same network?** " + network_line(experiments))
    lines.append("**Accuracy:** " + accuracy_line(experiments))
    found = speeds(experiments)
    if found:
        twice = repeats(experiments)
        noise_text = (
            f" The same configuration run twice moved a target's median epoch time by up to "
            f"{100 * max(r.timing_change for r in twice):.0f}%, so read these ratios to about "
            "that precision."
            if twice
            else " Each ratio comes from single runs on one machine; repeat the run to see "
            "how much it moves."
        )
        lines.append(
            "**Speed:** "
            + "; ".join(speed_text(s) for s in found)
            + ". Epoch times are medians over each run's epochs."
            + noise_text
        )
    anomalies = [
        f"`{e.name}`: {f.text}"
        for e in experiments
        for f in experiment_findings(e)
        if f.kind in ("parted", "disagreement")
        or (f.kind == "excluded" and not f.text.startswith("Not compared"))
    ]
    if anomalies:
        lines.append("**Anomalies:**")
        lines += [f"- {text}" for text in anomalies]
    return lines


def network_line(experiments: list[ExperimentResult]) -> str:
    checks = [(e, e.equivalence) for e in experiments if e.equivalence is not None]
    if not checks:
        return "not checked (no lockstep equivalence was run)."
    largest: dict[str, float] = {}
    parted_in: list[str] = []
    total = 0
    for experiment, result in checks:
        for finding, curve in zip(equivalence_findings(result), result.curves, strict=True):
            total += 1
            if finding.kind == "equivalent":
                value = max(v for v in curve.weight_diff if v is not None)
                largest[curve.label] = max(largest.get(curve.label, 0.0), value)
            else:
                parted_in.append(f"{curve.label} in `{experiment.name}`")
    dtypes = "/".join(sorted({r.dtype for _, r in checks}))
    steps = max(r.steps for _, r in checks)
    broken = [
        f"{r.label} in `{e.name}`/{r.variant}"
        for e in experiments
        for r in e.runs
        if r.status in ("diverged", "failed")
    ]
    checked = f"{steps} {dtypes} steps from the same weights and batches"
    if same_network(experiments):
        answer = (
            f"yes: in all {len(checks)} lockstep checks ({checked}) every framework stays on "
            "NumPy's trajectory"
        )
    elif broken:
        answer = f"not shown: a run diverged or failed ({len(checks)} lockstep checks, {checked})"
    else:
        answer = (
            f"mostly: {total - len(parted_in)} of {total} framework trajectories stay at "
            f"rounding level over {len(checks)} lockstep checks ({checked})"
        )
    parts = [answer]
    if largest:
        parts.append(
            "largest weight difference at rounding level: "
            + ", ".join(f"{label} {value:.1e}" for label, value in largest.items())
        )
    if parted_in:
        parts.append("trajectories part for " + ", ".join(parted_in) + " (see Anomalies)")
    if broken:
        parts.append("not every run finished: " + ", ".join(broken))
    return "; ".join(parts) + "."


def accuracy_line(experiments: list[ExperimentResult]) -> str:
    """Each framework's test accuracy against NumPy's, variant by variant, with the noise."""
    differences: dict[str, list[float]] = {}
    agree = disagree = compared = 0
    thresholds = []
    disagreeing = []
    for experiment in experiments:
        for variant in experiment.variants:
            finding = variant_agreement(experiment, variant)
            if finding.kind in ("excluded", "chance"):
                continue
            thresholds.append(noise(experiment, variant).threshold)
            compared += 1
            if finding.kind == "agreement":
                agree += 1
            else:
                disagree += 1
                disagreeing.append(f"`{experiment.name}`/{variant}")
            scored = {s.target: s for s in scores(experiment, variant)}
            reference = scored.get(REFERENCE)
            if reference is None:
                continue
            for target, score in scored.items():
                if target != REFERENCE:
                    differences.setdefault(score.label, []).append(
                        score.accuracy - reference.accuracy
                    )
    if not compared:
        return "no variant has two finished runs that learned, so there is nothing to compare."
    threshold = (
        pts(thresholds[0])
        if len(set(f"{t:.4f}" for t in thresholds)) == 1
        else f"{100 * min(thresholds):.2f}–{pts(max(thresholds))}"
    )
    text = (
        f"in {agree} of {compared} compared variants every finished run reaches the same test "
        f"accuracy within noise (threshold {threshold}, from the binomial error of one seed's "
        "test accuracy or the seed spread where there are seeds)"
    )
    if disagreeing:
        text += "; beyond noise: " + ", ".join(disagreeing)
    if differences:
        text += ". Against NumPy/cpu: " + "; ".join(
            f"{label} {100 * statistics.median(d):+.2f} points (median; "
            f"{100 * min(d):+.2f} to {100 * max(d):+.2f})"
            for label, d in differences.items()
        )
    return text + "."


def against_published(experiment: ExperimentResult) -> list[Finding]:
    """Each published figure beside the measured one at the same epoch, with the noise."""
    findings = []
    for item in experiment.published:
        matches = [
            r
            for r in experiment.finished
            if item.framework in (r.framework, "all")
            and (item.variant is None or r.variant == item.variant)
        ]
        if not matches or item.test_accuracy is None:
            continue
        run = matches[0]
        measured = run.test_at(item.epoch) or 0.0
        reached = item.epoch is not None and item.epoch <= len(run.test_history)
        when = f"after epoch {item.epoch}" if reached else "at the end"
        others = [
            f"{r.label} {pct(r.test_at(item.epoch) or 0.0)}"
            for r in experiment.finished
            if r.variant == run.variant and r is not run
        ]
        difference = measured - item.test_accuracy
        limit = noise(experiment, run.variant)
        verdict = "within noise" if abs(difference) <= limit.threshold else "beyond noise"
        note = f" ({item.note})" if item.note else ""
        also = f"; same variant and epoch: {', '.join(others)}" if others else ""
        who = NAMES.get(item.framework, "for every framework")
        findings.append(
            Finding(
                "published",
                f"Published {who} {pct(item.test_accuracy)}{note}; measured {run.label} "
                f"{pct(measured)} {when} ({run.variant}): {100 * difference:+.2f} points, "
                f"{verdict}{also}.",
            )
        )
    return findings


@dataclass(frozen=True)
class LossSplit:
    """NumPy with loss A against a framework with loss B, split into framework and method."""

    first: str  # variant with loss A
    second: str  # the same variant with loss B
    framework: str
    numpy_a: float
    framework_a: float
    framework_b: float

    @property
    def framework_part(self) -> float:
        return self.numpy_a - self.framework_a

    @property
    def method_part(self) -> float:
        return self.framework_a - self.framework_b


def loss_splits(experiment: ExperimentResult) -> list[LossSplit]:
    """Variants that differ only in the loss: how much of a gap is framework, how much method."""
    info = {v.name: v for v in experiment.variant_info}
    accuracy = {
        (r.variant, r.framework): r.test_accuracy or 0.0
        for r in experiment.finished
        if r.device == "cpu"
    }
    splits = []
    ordered = list(info)
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            a, b = info[first], info[second]
            rest_a = {k: v for k, v in a.overrides.items() if k != "loss"}
            rest_b = {k: v for k, v in b.overrides.items() if k != "loss"}
            if rest_a != rest_b or a.init_from != b.init_from or a.loss == b.loss:
                continue
            if (first, "numpy") not in accuracy:
                continue
            for framework in ("torch", "tf", "jax"):
                if (first, framework) in accuracy and (second, framework) in accuracy:
                    splits.append(
                        LossSplit(
                            first,
                            second,
                            framework,
                            accuracy[(first, "numpy")],
                            accuracy[(first, framework)],
                            accuracy[(second, framework)],
                        )
                    )
    return splits


def loss_split_summary(splits: list[LossSplit]) -> Finding | None:
    if not splits:
        return None
    framework = statistics.mean(abs(s.framework_part) for s in splits)
    method = statistics.mean(abs(s.method_part) for s in splits)
    return Finding(
        "published",
        f"Over these {len(splits)} comparisons the framework moves test accuracy by "
        f"{pts(framework)} on average and the method (the loss) by {pts(method)}: the gap "
        + ("is mostly the method." if method > framework else "is mostly the framework."),
    )
