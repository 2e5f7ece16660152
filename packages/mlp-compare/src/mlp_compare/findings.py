"""What the numbers say, as typed verdicts: agreement, noise, divergence, speed, conventions.

Every verdict is computed from the results model (`mlp_compare.records`); `mlp_compare.prose`
writes each one as a sentence, and nothing here ever reads text. The rules, so that no
sentence contradicts the tables beside it:

- Only finished runs are compared. A run that diverged, failed, was interrupted, was not run
  or skipped is left out of every "same accuracy" verdict and named next to it.
- Two accuracies are "the same" only within the noise threshold (`Noise`): with several seeds,
  2√2 σ/√k of the seed spread; with one seed, 2√2 SE, where SE = √(p(1 − p)/n) is the
  binomial standard error of a test accuracy p measured on n images. 2√2 SE is two standard
  errors of the difference of two independent such estimates, about a 95% bound (p = 0.98,
  n = 10 000: 0.40 points).
- The frameworks "compute the same network" only where the lockstep equivalence stays at
  rounding level (`ROUNDING`) and no run diverged. A larger weight difference is a
  trajectory that parts: at which step, how far, and why where the recorded update gaps show
  it (a ReLU kink within rounding of 0; opposite Adam steps of size ≈ η; an update that
  differs by more than rounding (`RELATIVE`) with no kink near).
- Runs at chance level (below 1/classes + `CHANCE_MARGIN`) learned nothing: their equal
  accuracies are not agreement.
- A gap between runs that follow different conventions, or draw their own weights or
  shuffle their own way, is that difference, never rounding; rounding is never a
  difference in the frameworks.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from itertools import pairwise

from mlp_compare.records import REFERENCE, Equivalence, Experiment, Results, Run, UpdateGap
from mlp_numpy import conventions
from mlp_numpy.spec import ModelSpec, SpecError

# Largest |w − w_reference| over the equivalence steps that rounding alone explains.
ROUNDING = {"float32": 1e-4, "float64": 1e-9}
# Relative difference of one step's update beyond what rounding that step explains.
RELATIVE = {"float32": 1e-3, "float64": 1e-9}
# A ReLU pre-activation this close to 0 may round to either side in another framework.
KINK = {"float32": 1e-6, "float64": 1e-14}
CHANCE_MARGIN = 0.05  # a test accuracy below 1/classes + this has not learned
LEFT_ALONE = ("ok", "skipped", "not_run")  # statuses that are not a run gone wrong
Target = tuple[str, str, str | None]  # framework, device, whose conventions (reference runs)
REFERENCE_TARGET: Target = (REFERENCE, "cpu", None)


@dataclass(frozen=True)
class Noise:
    """The smallest test-accuracy difference (a fraction) that noise does not explain:
    from the seed spread (`seeds` > 1: σ pooled over `configurations`) or, with one seed,
    the binomial standard error `se` of an accuracy `p` on `n` images."""

    threshold: float
    seeds: int = 1
    sigma: float = 0.0
    configurations: int = 0
    p: float = 0.0
    n: int = 0
    se: float = 0.0

    @property
    def from_seeds(self) -> bool:
        return self.seeds > 1


@dataclass(frozen=True)
class Score:
    """One target's test accuracy in one variant: the mean over its finished seeds."""

    target: Target
    accuracy: float
    seeds: int


def scores(experiment: Experiment, variant: str) -> list[Score]:
    """Per target that finished the variant, its (seed-mean) test accuracy, in run order."""
    groups: dict[Target, list[Run]] = {}
    for run in experiment.runs_of(variant):
        if run.finished:
            groups.setdefault(run.target, []).append(run)
    return [
        Score(target, statistics.mean(r.test_accuracy or 0.0 for r in runs), len(runs))
        for target, runs in groups.items()
    ]


def noise(experiment: Experiment, variant: str | None = None) -> Noise:
    """The seed spread when runs repeat with other seeds; else the binomial bound.

    The binomial bound takes p from the variant's finished runs (all of the experiment's
    without a variant): a run near 50% is noisier than one near 98%.
    """
    groups: dict[tuple[str, Target], list[float]] = {}
    for run in experiment.finished:
        groups.setdefault((run.variant, run.target), []).append(run.test_accuracy or 0.0)
    repeated = [values for values in groups.values() if len(values) > 1]
    if repeated:
        sigma = math.sqrt(statistics.mean(statistics.variance(v) for v in repeated))
        seeds = min(len(v) for v in repeated)
        threshold = 2 * math.sqrt(2) * sigma / math.sqrt(seeds)
        return Noise(threshold, seeds=seeds, sigma=sigma, configurations=len(repeated))
    accuracies = [
        r.test_accuracy
        for r in experiment.finished
        if r.test_accuracy is not None and variant in (None, r.variant)
    ]
    p = statistics.median(accuracies) if accuracies else 0.5
    n = experiment.test_size
    se = math.sqrt(max(p * (1 - p), 1e-12) / n)
    return Noise(2 * math.sqrt(2) * se, p=p, n=n, se=se)


# ---- verdicts on one experiment ------------------------------------------------------------


@dataclass(frozen=True)
class NotCompared:
    """Targets that could not run here (skipped): named once, never compared."""

    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Unsupported:
    """Runs of one variant and target that were not run: the spec pins something the
    framework has no built-in for (the same reason for every seed)."""

    variant: str
    target: Target
    reason: str
    runs: int


@dataclass(frozen=True)
class LeftOut:
    """A run that started and did not finish (diverged, failed, interrupted)."""

    run: Run


@dataclass(frozen=True)
class NothingToCompare:
    variant: str
    only: Target | None  # the one target that finished, if any
    left_out: tuple[Run, ...]


@dataclass(frozen=True)
class Chance:
    """No finished run of the variant learned: their accuracies say nothing."""

    variant: str
    scores: tuple[Score, ...]
    chance: float
    left_out: tuple[Run, ...]


@dataclass(frozen=True)
class Agreement:
    """The finished runs of one variant reach the same test accuracy within noise."""

    variant: str
    scores: tuple[Score, ...]
    spread: float
    threshold: float
    left_out: tuple[Run, ...]


@dataclass(frozen=True)
class MergedAgreement:
    """The same targets agree in several variants: one verdict for all of them."""

    variants: tuple[str, ...]
    targets: tuple[Target, ...]
    largest: float
    largest_in: str
    thresholds: tuple[float, float]  # lowest, highest


@dataclass(frozen=True)
class OwnChoices:
    """The runs draw their own initial weights and/or shuffle in their own order."""

    init_draw: bool
    batch_order: bool


@dataclass(frozen=True)
class NoLockstep:
    """No lockstep check ran, so whether the computations differ is not shown."""


@dataclass(frozen=True)
class PartedTrajectories:
    """The lockstep check shows trajectories that part."""


@dataclass(frozen=True)
class Compounding:
    """The lockstep check shows the same computation to rounding: the gap grows from
    rounding compounding over the whole run."""

    steps: int
    variant: str
    epochs: int


@dataclass(frozen=True)
class ConventionsDiffer:
    """Frameworks whose built-ins follow other conventions than the reference's own: the
    runs compute different formulas (framework -> field -> (reference's form, its form))."""

    frameworks: tuple[tuple[str, tuple[tuple[str, tuple[str, str]], ...]], ...]


Cause = OwnChoices | ConventionsDiffer | NoLockstep | PartedTrajectories | Compounding


@dataclass(frozen=True)
class Outlier:
    score: Score
    from_median: float


@dataclass(frozen=True)
class Disagreement:
    """The finished runs of one variant differ by more than noise, and why."""

    variant: str
    spread: float
    threshold: float
    outliers: tuple[Outlier, ...]
    cause: Cause
    left_out: tuple[Run, ...]


@dataclass(frozen=True)
class ConventionEffect:
    """What a set of conventions changes: the reference under a framework's conventions
    against the reference under its own, and the framework against the former."""

    variant: str
    conventions: str  # the framework whose conventions the reference ran under
    frameworks: tuple[str, ...]  # every framework that follows them
    fields: tuple[tuple[str, tuple[str, str]], ...]  # field -> (reference's, theirs)
    plain: Score | None  # the reference under its own conventions
    under: Score | None  # the reference under the framework's conventions
    framework: Score | None  # the framework itself
    threshold: float

    @property
    def effect(self) -> float | None:
        """The conventions' effect on test accuracy: under − plain."""
        return (
            None
            if self.plain is None or self.under is None
            else (self.under.accuracy - self.plain.accuracy)
        )

    @property
    def framework_gap(self) -> float | None:
        """The framework against the reference under its conventions."""
        return (
            None
            if self.under is None or self.framework is None
            else (self.framework.accuracy - self.under.accuracy)
        )


@dataclass(frozen=True)
class NoiseLevel:
    """The experiment's noise threshold, stated once."""

    noise: Noise


@dataclass(frozen=True)
class Remeasured:
    """The equivalence was measured again, after the runs."""

    at: str
    command: str


@dataclass(frozen=True)
class Where:
    """A lockstep check: variant, dtype and number of steps."""

    variant: str
    dtype: str
    steps: int


@dataclass(frozen=True)
class Equivalent:
    """A framework stays on the reference's trajectory at rounding level."""

    target: Target
    reference: Target
    where: Where
    largest: float
    bound: float


@dataclass(frozen=True)
class Kink:
    """A ReLU unit within rounding of its kink: the frameworks may disagree on whether it
    is active, so that step's updates there differ."""

    step: int
    gap: UpdateGap
    dtype: str
    size: float


@dataclass(frozen=True)
class AdamFlip:
    """Opposite Adam updates of size ≈ lr: m̂/(√v̂ + ε) turns a near-zero gradient into a
    step of up to ±lr."""

    step: int
    gap: UpdateGap
    lr: float


@dataclass(frozen=True)
class NearEpsilon:
    """Adam's first step below 0.9 lr: |g| < 9ε, a gradient near zero whose rounding Adam
    turns into a different step."""

    step: int
    gap: UpdateGap
    relative: float
    dtype: str


@dataclass(frozen=True)
class OtherGradient:
    """An update that differs by more than its own rounding, with no kink near: the sum that
    forms the gradient cancels, or the two compute it differently."""

    step: int
    gap: UpdateGap
    relative: float
    dtype: str


@dataclass(frozen=True)
class NothingInCommon:
    """The weight difference is as large as the weights."""


PartCause = Kink | AdamFlip | NearEpsilon | OtherGradient | NothingInCommon


@dataclass(frozen=True)
class Parted:
    """A framework leaves the reference's trajectory: where, how far, and why."""

    target: Target
    reference: Target
    where: Where
    first_step: int  # 1-based
    before: float | None  # the difference the step before
    last: float | None  # the difference at the last step; None: not finite
    bound: float
    causes: tuple[PartCause, ...]


@dataclass(frozen=True)
class WarmUp:
    """A target whose first epoch is much slower than the rest: tracing or compiling."""

    target: Target
    first: float
    later: float
    runs: int


Verdict = (
    NotCompared
    | Unsupported
    | LeftOut
    | NothingToCompare
    | Chance
    | Agreement
    | MergedAgreement
    | Disagreement
    | ConventionEffect
    | NoiseLevel
    | Remeasured
    | Equivalent
    | Parted
    | WarmUp
)


def not_run(experiment: Experiment) -> list[NotCompared | Unsupported | LeftOut]:
    """Runs left out of every comparison: skipped targets once, runs that the frameworks
    have no built-ins for once per variant and target, other failures per run."""
    verdicts: list[NotCompared | Unsupported | LeftOut] = []
    skipped = tuple(dict.fromkeys(r.target for r in experiment.runs if r.status == "skipped"))
    if skipped:
        verdicts.append(NotCompared(skipped))
    unsupported: dict[tuple[str, Target, str], int] = {}
    for run in experiment.runs:
        if run.status == "not_run":
            key = (run.variant, run.target, run.reason or "")
            unsupported[key] = unsupported.get(key, 0) + 1
    verdicts += [Unsupported(v, t, reason, n) for (v, t, reason), n in unsupported.items()]
    verdicts += [LeftOut(r) for r in experiment.runs if r.status not in LEFT_ALONE]
    return verdicts


def variant_agreement(
    experiment: Experiment, variant: str
) -> NothingToCompare | Chance | Agreement | Disagreement:
    """Do the finished runs of one variant reach the same test accuracy, within noise?"""
    limit = noise(experiment, variant)
    runs = experiment.runs_of(variant)
    left_out = tuple(r for r in runs if r.status not in LEFT_ALONE)
    scored = scores(experiment, variant)
    if len(scored) < 2:
        return NothingToCompare(variant, scored[0].target if scored else None, left_out)
    chance = 1 / experiment.classes
    if all(s.accuracy < chance + CHANCE_MARGIN for s in scored):
        return Chance(variant, tuple(scored), chance, left_out)
    low = min(scored, key=lambda s: s.accuracy)
    high = max(scored, key=lambda s: s.accuracy)
    spread = high.accuracy - low.accuracy
    if spread <= limit.threshold:
        return Agreement(variant, tuple(scored), spread, limit.threshold, left_out)
    median = statistics.median(s.accuracy for s in scored)
    outliers = [s for s in scored if abs(s.accuracy - median) > limit.threshold] or [low, high]
    involved = [s.target for s in outliers]
    if REFERENCE_TARGET in involved:  # the reference is apart: every framework is involved
        involved = [s.target for s in scored]
    return Disagreement(
        variant,
        spread,
        limit.threshold,
        tuple(Outlier(s, s.accuracy - median) for s in outliers),
        why_apart(experiment, variant, [t[0] for t in involved if t[2] is None]),
        left_out,
    )


def spec_of(experiment: Experiment, variant: str) -> ModelSpec | None:
    """The variant's spec, or None where the recorded one no longer reads as a spec."""
    try:
        return ModelSpec.from_dict(experiment.variant(variant).spec)
    except (SpecError, KeyError, TypeError):
        return None


def convention_fields(spec: ModelSpec | None, framework: str) -> dict[str, tuple[str, str]]:
    """The conventions in which `framework`'s built-ins differ from the reference's own for
    `spec`: field -> (the reference's form, the framework's)."""
    if spec is None or framework == REFERENCE or framework not in conventions.BUILT_INS:
        return {}
    return conventions.differences(spec, REFERENCE, framework)


def why_apart(experiment: Experiment, variant: str, frameworks: list[str]) -> Cause:
    """Why accuracies differ beyond noise, as far as the records show it.

    Runs that draw their own initial weights or shuffle in their own order are different
    experiments, whatever the lockstep check (on the shared weights and order) shows; so
    are runs of `frameworks` whose built-ins follow other conventions than the reference.
    Otherwise the lockstep check tells computations that part from rounding."""
    spec = experiment.variant(variant).spec
    draw = spec.get("init", {}).get("draw") == "framework"
    order = spec.get("training", {}).get("batch_order") == "framework"
    if draw or order:
        return OwnChoices(draw, order)
    parsed = spec_of(experiment, variant)
    differ = [(f, tuple(convention_fields(parsed, f).items())) for f in dict.fromkeys(frameworks)]
    if any(fields for _, fields in differ):
        return ConventionsDiffer(tuple((f, fields) for f, fields in differ if fields))
    result = experiment.equivalence
    if result is None:
        return NoLockstep()
    if any(isinstance(v, Parted) for v in equivalence_verdicts(result)):
        return PartedTrajectories()
    epochs = max((len(r.history) for r in experiment.runs_of(variant)), default=0)
    return Compounding(result.steps, result.variant, epochs)


def _target(framework: str, device: str, conventions: str | None = None) -> Target:
    return (framework, device, conventions)


def equivalence_verdicts(result: Equivalence) -> list[Equivalent | Parted]:
    """One verdict per framework: on the reference's trajectory, or where it parts from it."""
    bound = ROUNDING[result.dtype]
    where = Where(result.variant, result.dtype, result.steps)
    framework, device = result.reference.split("/")
    verdicts: list[Equivalent | Parted] = []
    for curve in result.curves:
        reference = _target(framework, device, curve.reference_conventions)
        target = _target(curve.framework, curve.device)
        values = curve.max_weight_diff
        finite = [v for v in values if v is not None]
        if finite and len(finite) == len(values) and max(finite) <= bound:
            verdicts.append(Equivalent(target, reference, where, max(finite), bound))
            continue
        first = next(i for i, v in enumerate(values) if v is None or v > bound)
        verdicts.append(
            Parted(
                target,
                reference,
                where,
                first + 1,
                values[first - 1] if first > 0 else None,
                values[-1],
                bound,
                tuple(part_causes(result, curve.largest_update_gap, values, first)),
            )
        )
    return verdicts


def part_causes(
    result: Equivalence, gaps: list[UpdateGap], values: list[float | None], first: int
) -> list[PartCause]:
    """Why a trajectory parts at step `first` + 1, where the recorded update gaps show it."""
    causes: list[PartCause] = []
    kink = KINK[result.dtype]
    for step, gap in enumerate(gaps[: first + 1], start=1):
        if gap.kink_margin is not None and gap.kink_margin < kink:
            causes.append(Kink(step, gap, result.dtype, _gap_size(gap)))
            break
    else:
        causes += _gradient_differs(result, gaps[: first + 1])
    optimizer, lr = result.optimizer, result.lr
    for step, gap in enumerate(gaps, start=1):
        u, r = gap.update, gap.reference_update
        if (
            optimizer == "adam"
            and lr is not None
            and u is not None
            and r is not None
            and u * r < 0
            and min(abs(u), abs(r)) > 0.1 * lr
        ):
            causes.append(AdamFlip(step, gap, lr))
            break
    last = values[-1]
    if any(v is None for v in values) or (last is not None and last > 1.0):
        causes.append(NothingInCommon())
    return causes


def _gradient_differs(result: Equivalence, gaps: list[UpdateGap]) -> list[PartCause]:
    """An update that differs by more than the rounding of its own size, with no kink near.

    Adam's first step is −η g/(|g| + ε): one below 0.9 η means |g| < 9ε, a gradient near
    zero whose rounding Adam turns into a different step. Otherwise the gradient's sum may
    cancel (its terms far larger than the result, so their rounding is too), or the two
    compute it differently; the update alone cannot tell which.
    """
    optimizer, lr = result.optimizer, result.lr
    for step, gap in enumerate(gaps, start=1):
        u, r = gap.update, gap.reference_update
        if u is None or r is None or r == 0 or u * r < 0:
            continue
        relative = abs(u - r) / abs(r)
        if relative <= RELATIVE[result.dtype]:
            continue
        if optimizer == "adam" and step == 1 and lr and max(abs(u), abs(r)) < 0.9 * lr:
            return [NearEpsilon(step, gap, relative, result.dtype)]
        return [OtherGradient(step, gap, relative, result.dtype)]
    return []


def _gap_size(gap: UpdateGap) -> float:
    u, r = gap.update, gap.reference_update
    return abs(u - r) if u is not None and r is not None else math.nan


def warm_up(experiment: Experiment) -> list[WarmUp]:
    """Targets whose first epoch is much slower than the median of the rest."""
    slow: dict[Target, list[tuple[float, float]]] = {}
    for run in experiment.finished:
        seconds = run.epoch_seconds
        if len(seconds) < 3:
            continue
        later = statistics.median(seconds[1:])
        if seconds[0] > 3 * later and seconds[0] - later > 0.5:
            slow.setdefault(run.target, []).append((seconds[0], later))
    return [
        WarmUp(
            target,
            max(f for f, _ in cases),
            statistics.median(m for _, m in cases),
            len(cases),
        )
        for target, cases in slow.items()
    ]


def agreements(experiment: Experiment) -> list[Verdict]:
    """Per variant, merging the plain agreements of the same targets into one verdict."""
    found = [variant_agreement(experiment, v) for v in experiment.variant_names]
    plain: dict[tuple[Target, ...], list[Agreement]] = {}
    for verdict in found:
        if isinstance(verdict, Agreement) and not verdict.left_out:
            plain.setdefault(tuple(s.target for s in verdict.scores), []).append(verdict)
    merged = {who: group for who, group in plain.items() if len(group) > 1}
    verdicts: list[Verdict] = []
    for verdict in found:
        group = next((g for g in merged.values() if verdict in g), None)
        if group is None:
            verdicts.append(verdict)
        elif group[0] is verdict:
            largest = max(group, key=lambda a: a.spread)
            verdicts.append(
                MergedAgreement(
                    tuple(a.variant for a in group),
                    tuple(s.target for s in verdict.scores),
                    largest.spread,
                    largest.variant,
                    (min(a.threshold for a in group), max(a.threshold for a in group)),
                )
            )
    return verdicts


def convention_effects(experiment: Experiment) -> list[ConventionEffect]:
    """Per variant and set of conventions the reference also ran under: what they change."""
    found = []
    for variant in experiment.variant_names:
        spec = spec_of(experiment, variant)
        scored = {s.target: s for s in scores(experiment, variant)}
        names = dict.fromkeys(r.conventions for r in experiment.runs_of(variant) if r.conventions)
        ran = list(dict.fromkeys(r.framework for r in experiment.runs_of(variant)))
        limit = noise(experiment, variant).threshold
        for name in names:
            assert name is not None
            fields = convention_fields(spec, name)
            forms = tuple(sorted(fields.items()))
            following = tuple(
                f
                for f in ran
                if f != REFERENCE and tuple(sorted(convention_fields(spec, f).items())) == forms
            )
            found.append(
                ConventionEffect(
                    variant,
                    name,
                    following or (name,),
                    tuple(fields.items()),
                    scored.get(REFERENCE_TARGET),
                    scored.get((REFERENCE, "cpu", name)),
                    scored.get((name, "cpu", None)),
                    limit,
                )
            )
    return found


def experiment_verdicts(experiment: Experiment) -> list[Verdict]:
    """Everything the report says about one experiment, in reading order."""
    verdicts: list[Verdict] = [*not_run(experiment), *agreements(experiment)]
    verdicts += convention_effects(experiment)
    verdicts.append(NoiseLevel(noise(experiment)))
    if experiment.equivalence is not None:
        if experiment.equivalence.remeasured:
            measured = experiment.equivalence.remeasured
            verdicts.append(Remeasured(measured.at, measured.command))
        verdicts += equivalence_verdicts(experiment.equivalence)
    verdicts += warm_up(experiment)
    return verdicts


# ---- verdicts on the whole study ----------------------------------------------------------


@dataclass(frozen=True)
class Repeat:
    """The same configuration (data, spec, initial weights) run twice, by one target."""

    first: str  # "baseline/adam"
    second: str
    target: Target
    accuracies: tuple[float, float]
    seconds: tuple[float, float]  # median epoch times

    @property
    def timing_change(self) -> float:
        """|a − b| / min(a, b): how much the same work's time moved between the two runs."""
        a, b = self.seconds
        return abs(a - b) / min(a, b)


def repeats(experiments: list[Experiment]) -> list[Repeat]:
    """Every target's pair of runs of one configuration that appears twice in this study."""
    places: dict[str, list[tuple[Experiment, str]]] = {}
    for experiment in experiments:
        for variant in experiment.variant_names:
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
                            target,
                            (a.test_accuracy or 0.0, b.test_accuracy or 0.0),
                            (a.median_epoch_seconds, b.median_epoch_seconds),
                        )
                    )
    return found


@dataclass(frozen=True)
class Speed:
    """One target's time per epoch relative to the reference's, over the variants both ran."""

    target: Target
    ratios: tuple[float, ...]  # median epoch time ÷ the reference's, one per variant

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)


def speeds(experiments: list[Experiment]) -> list[Speed]:
    """Per target, the ratio of median epoch times to the reference's, in every variant both
    ran (the reference's runs under other frameworks' conventions are not targets here)."""
    ratios: dict[Target, list[float]] = {}
    for experiment in experiments:
        for variant in experiment.variant_names:
            done = {r.target: r for r in experiment.runs_of(variant) if r.finished}
            reference = done.get(REFERENCE_TARGET)
            base = reference.median_epoch_seconds if reference else None
            if not base:
                continue
            for target, run in done.items():
                if target[0] != REFERENCE and run.median_epoch_seconds:
                    ratios.setdefault(target, []).append(run.median_epoch_seconds / base)
    return [Speed(target, tuple(values)) for target, values in ratios.items()]


def same_network(experiments: list[Experiment]) -> bool:
    """Every equivalence at rounding level, and no finished comparison broken by a failure."""
    checks = [e.equivalence for e in experiments if e.equivalence is not None]
    if not checks:
        return False
    for experiment in experiments:
        if any(r.status in ("diverged", "failed") for r in experiment.runs):
            return False
    return all(isinstance(v, Equivalent) for e in checks for v in equivalence_verdicts(e))


@dataclass(frozen=True)
class Network:
    """Did the frameworks compute the same network? Over every lockstep check."""

    checks: int
    steps: int
    dtypes: tuple[str, ...]
    same: bool
    total: int  # framework trajectories checked
    largest: tuple[tuple[Target, float], ...]  # per target at rounding level: its largest
    parted_in: tuple[tuple[Target, str], ...]  # (target, experiment)
    broken: tuple[Run, ...]  # diverged or failed runs
    left_out: tuple[tuple[Target, str, str], ...] = ()  # (target, experiment, spec field)


def network(experiments: list[Experiment]) -> Network | None:
    checks = [(e, e.equivalence) for e in experiments if e.equivalence is not None]
    if not checks:
        return None
    largest: dict[Target, float] = {}
    parted_in: list[tuple[Target, str]] = []
    total = 0
    for experiment, result in checks:
        for verdict in equivalence_verdicts(result):
            total += 1
            if isinstance(verdict, Equivalent):
                largest[verdict.target] = max(largest.get(verdict.target, 0.0), verdict.largest)
            else:
                parted_in.append((verdict.target, experiment.name))
    return Network(
        checks=len(checks),
        steps=max(r.steps for _, r in checks),
        dtypes=tuple(sorted({r.dtype for _, r in checks})),
        same=same_network(experiments),
        total=total,
        largest=tuple(largest.items()),
        parted_in=tuple(parted_in),
        broken=tuple(r for e in experiments for r in e.runs if r.status in ("diverged", "failed")),
        left_out=tuple(
            ((n.framework, n.device, None), experiment.name, n.reason.split(":")[0])
            for experiment, result in checks
            for n in result.not_run
        ),
    )


@dataclass(frozen=True)
class Accuracy:
    """Each target's test accuracy against the reference's, variant by variant: against the
    reference under the target's conventions where the reference ran under them."""

    compared: int
    agree: int
    thresholds: tuple[float, ...]
    disagreeing: tuple[tuple[str, str], ...]  # (experiment, variant)
    differences: tuple[tuple[Target, tuple[float, ...]], ...]  # against the reference
    under_conventions: bool  # some differences are against the reference under conventions


def accuracy(experiments: list[Experiment]) -> Accuracy:
    differences: dict[Target, list[float]] = {}
    under_conventions = False
    agree = compared = 0
    thresholds: list[float] = []
    disagreeing: list[tuple[str, str]] = []
    for experiment in experiments:
        for variant in experiment.variant_names:
            verdict = variant_agreement(experiment, variant)
            if not isinstance(verdict, Agreement | Disagreement):
                continue
            thresholds.append(verdict.threshold)
            compared += 1
            if isinstance(verdict, Agreement):
                agree += 1
            else:
                disagreeing.append((experiment.name, variant))
            scored = {s.target: s for s in scores(experiment, variant)}
            for target, score in scored.items():
                if target[0] == REFERENCE:
                    continue
                reference = scored.get((REFERENCE, "cpu", target[0])) or scored.get(
                    REFERENCE_TARGET
                )
                if reference is not None:
                    under_conventions |= reference.target[2] is not None
                    differences.setdefault(target, []).append(score.accuracy - reference.accuracy)
    return Accuracy(
        compared,
        agree,
        tuple(thresholds),
        tuple(disagreeing),
        tuple((t, tuple(d)) for t, d in differences.items()),
        under_conventions,
    )


@dataclass(frozen=True)
class Tally:
    """What ran: the targets that finished something, and the runs by outcome."""

    targets: tuple[Target, ...]
    experiments: int
    variants: int
    runs: int
    counts: tuple[tuple[str, int], ...]  # (outcome, count), outcomes with runs only


def tally(experiments: list[Experiment]) -> Tally:
    runs = [r for e in experiments for r in e.runs]
    counts = {s: sum(r.status == s for r in runs) for s in ("ok", "diverged", "failed")}
    counts["not run"] = sum(r.status in ("skipped", "not_run", "interrupted") for r in runs)
    return Tally(
        targets=tuple(dict.fromkeys(r.target for r in runs if r.finished)),
        experiments=len(experiments),
        variants=sum(len(e.variants) for e in experiments),
        runs=len(runs),
        counts=tuple((s, n) for s, n in counts.items() if n),
    )


@dataclass(frozen=True)
class Anomaly:
    experiment: str
    verdict: Parted | Disagreement | LeftOut


@dataclass(frozen=True)
class Summary:
    """The answer a reader sees first."""

    tally: Tally
    network: Network | None
    accuracy: Accuracy
    speeds: tuple[Speed, ...]
    timing_noise: float | None  # the largest timing change of a configuration run twice
    anomalies: tuple[Anomaly, ...]


def summary(results: Results) -> Summary | None:
    """The study's answer; None when no run was recorded."""
    experiments = results.experiments
    if not any(e.runs for e in experiments):
        return None
    twice = repeats(experiments)
    anomalies = [
        Anomaly(e.name, v)
        for e in experiments
        for v in experiment_verdicts(e)
        if isinstance(v, Parted | Disagreement | LeftOut)
    ]
    return Summary(
        tally=tally(experiments),
        network=network(experiments),
        accuracy=accuracy(experiments),
        speeds=tuple(speeds(experiments)),
        timing_noise=max((r.timing_change for r in twice), default=None),
        anomalies=tuple(anomalies),
    )


@dataclass(frozen=True)
class PublishedComparison:
    """A published figure beside the measured one at the same epoch, with the noise."""

    framework: str  # as published: a framework or "all"
    published: float
    note: str
    run: Run
    measured: float
    epoch: int | None  # the epoch compared, None: the end of training
    others: tuple[tuple[Run, float], ...]  # the variant's other runs at that epoch
    threshold: float

    @property
    def difference(self) -> float:
        return self.measured - self.published

    @property
    def beyond(self) -> bool:
        return abs(self.difference) > self.threshold


def against_published(experiment: Experiment) -> list[PublishedComparison]:
    """Each published figure beside the measured one at the same epoch, with the noise."""
    found = []
    for item in experiment.published.results:
        matches = [
            r
            for r in experiment.finished
            if item.framework in (r.framework, "all")
            and (item.variant is None or r.variant == item.variant)
        ]
        if not matches or item.test_accuracy is None:
            continue
        run = matches[0]
        reached = item.epoch is not None and item.epoch <= len(run.history)
        found.append(
            PublishedComparison(
                framework=item.framework,
                published=item.test_accuracy,
                note=item.note,
                run=run,
                measured=run.test_at(item.epoch) or 0.0,
                epoch=item.epoch if reached else None,
                others=tuple(
                    (r, r.test_at(item.epoch) or 0.0)
                    for r in experiment.finished
                    if r.variant == run.variant and r is not run
                ),
                threshold=noise(experiment, run.variant).threshold,
            )
        )
    return found


@dataclass(frozen=True)
class LossSplit:
    """The reference with loss A against a framework with loss B, split into framework and
    method."""

    first: str  # variant with loss A
    second: str  # the same variant with loss B
    framework: str
    reference_a: float
    framework_a: float
    framework_b: float

    @property
    def framework_part(self) -> float:
        return self.reference_a - self.framework_a

    @property
    def method_part(self) -> float:
        return self.framework_a - self.framework_b


def loss_splits(experiment: Experiment) -> list[LossSplit]:
    """Variants that differ only in the loss (its name or reduction): how much of a gap is
    framework, how much method."""
    accuracy = {
        (r.variant, r.framework): r.test_accuracy or 0.0
        for r in experiment.finished
        if r.device == "cpu" and r.conventions is None
    }
    others = [f for f in dict.fromkeys(r.framework for r in experiment.runs) if f != REFERENCE]
    splits = []
    variants = experiment.variants
    for i, a in enumerate(variants):
        for b in variants[i + 1 :]:
            rest_a = {k: v for k, v in a.set.items() if k != "loss"}
            rest_b = {k: v for k, v in b.set.items() if k != "loss"}
            loss_a = (a.spec["loss"]["name"], a.spec["loss"]["reduction"])
            loss_b = (b.spec["loss"]["name"], b.spec["loss"]["reduction"])
            if rest_a != rest_b or a.init_from != b.init_from or loss_a == loss_b:
                continue
            if (a.name, REFERENCE) not in accuracy:
                continue
            for framework in others:
                if (a.name, framework) in accuracy and (b.name, framework) in accuracy:
                    splits.append(
                        LossSplit(
                            a.name,
                            b.name,
                            framework,
                            accuracy[(a.name, REFERENCE)],
                            accuracy[(a.name, framework)],
                            accuracy[(b.name, framework)],
                        )
                    )
    return splits
