"""Every sentence the report says, written from typed verdicts: the one place with prose.

`Prose` renders the verdicts of `mlp_compare.findings` and the statistics of
`mlp_compare.defaults_study` as English, naming each framework by the display name its
results recorded. Nothing reads these sentences back: every decision is made on the
verdicts before they are written.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from mlp_compare import defaults_study as study
from mlp_compare import findings as f
from mlp_compare.records import Executor, Results, Run, Session, UpdateGap, WeightEffect

REASON_LENGTH = 120  # a reason quoted in a table cell is cut here


def pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def pts(value: float) -> str:
    return f"{100 * value:.2f} points"


def pts_apart(larger: float, smaller: float) -> tuple[str, str]:
    """Both in points, with the fewest decimals (2 to 4) that show them apart."""
    for digits in (2, 3, 4):
        a, b = f"{100 * larger:.{digits}f}", f"{100 * smaller:.{digits}f}"
        if a != b:
            break
    return f"{a} points", f"{b} points"


def and_list(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def short(text: str) -> str:
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH].rsplit(" ", 1)[0] + " …"


def gap_name(gap: UpdateGap) -> str:
    """W2[17, 180] or b1[3]: 1-based layer, 0-based index as in the weight file."""
    letter = "W" if gap.parameter == "weight" else "b"
    return f"{letter}{gap.layer + 1}[{', '.join(map(str, gap.index))}]"


class Prose:
    """Sentences for one results document (its frameworks' display names)."""

    def __init__(self, results: Results) -> None:
        self.results = results

    # ---- names ---------------------------------------------------------------------------

    def name(self, framework: str) -> str:
        return self.results.display(framework)

    def label(self, target: f.Target) -> str:
        """ "PyTorch/cpu", or "NumPy/cpu under TensorFlow's conventions"."""
        framework, device, conventions = target
        under = f" under {self.name(conventions)}'s conventions" if conventions else ""
        return f"{self.name(framework)}/{device}{under}"

    def trajectory(self, reference: f.Target) -> str:
        """ "NumPy/cpu's trajectory", or "the trajectory of NumPy/cpu under TensorFlow's
        conventions"."""
        if reference[2] is None:
            return f"{self.label(reference)}'s trajectory"
        return f"the trajectory of {self.label(reference)}"

    def run_label(self, run: Run) -> str:
        return self.label(run.target)

    def labels(self, targets: Sequence[f.Target]) -> str:
        return and_list([self.label(t) for t in targets])

    def outcome(self, run: Run) -> str:
        """What happened to a run that did not finish, in a few words."""
        if run.status == "diverged" and run.divergence is not None:
            d = run.divergence
            return f"diverged at epoch {d.epoch}, step {d.step} (lr {d.lr:g})"
        if run.status == "skipped":
            return "skipped"
        status = "not run" if run.status == "not_run" else run.status
        return status + (f" ({run.reason})" if run.reason else "")

    def left_out(self, runs: Sequence[Run]) -> str:
        if not runs:
            return ""
        described = dict.fromkeys(f"{self.run_label(r)} {self.outcome(r)}" for r in runs)
        return f" Left out: {'; '.join(described)}."

    # ---- one experiment's verdicts -------------------------------------------------------

    def verdict(self, verdict: f.Verdict) -> str:
        """The sentence of one verdict."""
        match verdict:
            case f.NotCompared(targets):
                listed = ", ".join(self.label(t) for t in targets)
                return f"Not compared: {listed} (skipped; see Not run)."
            case f.Unsupported(variant, target, reason, runs):
                seeds = f" ({runs} seeds)" if runs > 1 else ""
                return (
                    f"{variant}: {self.label(target)} not run{seeds}: {reason}; the framework has "
                    "no built-in for what the spec pins."
                )
            case f.LeftOut(run):
                return (
                    f"{run.variant}: {self.run_label(run)} {self.outcome(run)}; it is left out "
                    "of every comparison."
                )
            case f.NothingToCompare(variant, only, left):
                which = f"only {self.label(only)} finished" if only else "no run finished"
                return f"{variant}: {which}, so there is nothing to compare.{self.left_out(left)}"
            case f.Chance(variant, scored, chance, left):
                return (
                    f"{variant}: no finished run learned ({self.accuracies(scored)}; chance is "
                    f"{pct(chance)}), so their accuracies say nothing about the frameworks."
                    + self.left_out(left)
                )
            case f.Agreement(variant, scored, spread, threshold, left):
                return (
                    f"{variant}: {self.labels([s.target for s in scored])} reach the same test "
                    f"accuracy within noise{self.over_seeds(scored)} (spread {pts(spread)}, below "
                    f"the {pts(threshold)} threshold).{self.left_out(left)}"
                )
            case f.MergedAgreement(variants, targets, largest, where, (low, high)):
                return (
                    f"In {len(variants)} variants ({', '.join(variants)}) {self.labels(targets)} "
                    f"reach the same test accuracy within noise: largest spread {pts(largest)} "
                    f"({where}), thresholds {100 * low:.2f}–{pts(high)}."
                )
            case f.Disagreement(variant, spread, threshold, outliers, cause, left):
                apart = "; ".join(
                    f"{self.label(o.score.target)} {pct(o.score.accuracy)} "
                    f"({100 * o.from_median:+.2f} points from the median)"
                    for o in outliers
                )
                shown_spread, shown_threshold = pts_apart(spread, threshold)
                return (
                    f"{variant}: the test accuracies differ by more than noise ({shown_spread} > "
                    f"{shown_threshold}): {apart}. {self.cause(cause)}{self.left_out(left)}"
                )
            case f.ConventionEffect():
                return self.convention_effect(verdict)
            case f.NoiseLevel(limit):
                return self.noise(limit)
            case f.Remeasured(at, command):
                return (
                    f"The equivalence below was measured again, {at} by `{command}`, with newer "
                    "code than the training runs above."
                )
            case f.Equivalent(target, reference, where, largest, bound):
                return (
                    f"{self.label(target)} follows {self.trajectory(reference)} "
                    f"({self.where(where)}): largest weight difference {largest:.1e}, at rounding "
                    f"level (≤ {bound:.0e})."
                )
            case f.Parted():
                return self.parted(verdict)
            case f.WarmUp(target, first, later, runs):
                return (
                    f"{self.label(target)}: the first epoch took {first:.2f} s against a median of "
                    f"{later:.2f} s for the later ones (in {runs} run(s)): one-time tracing or "
                    "compiling; medians leave it out."
                )
        raise TypeError(f"no sentence for {verdict!r}")

    def fields(self, fields: Sequence[tuple[str, tuple[str, str]]]) -> str:
        """ "training.optimizer.eps_placement eps_hat (NumPy: sqrt_v_hat)"."""
        reference = self.name(f.REFERENCE)
        return "; ".join(
            f"{field} {theirs} ({reference}: {ours})" for field, (ours, theirs) in fields
        )

    def convention_effect(self, verdict: f.ConventionEffect) -> str:
        """What the conventions a framework follows change, as the reference shows it."""
        who = and_list([self.name(name) for name in verdict.frameworks])
        follow = "follows" if len(verdict.frameworks) == 1 else "follow"
        owner = self.name(verdict.conventions)
        reference = self.name(f.REFERENCE)
        text = (
            f"{verdict.variant}: {who} {follow} other conventions than {reference}'s own: "
            f"{self.fields(verdict.fields)}."
        )
        effect = verdict.effect
        if effect is None or verdict.under is None or verdict.plain is None:
            return text + (
                f" The reference under {owner}'s conventions did not finish, so what they "
                "change is not shown."
            )
        text += (
            f" {reference} under {owner}'s conventions reaches {pct(verdict.under.accuracy)} "
            f"against {pct(verdict.plain.accuracy)} under its own"
            f"{self.over_seeds([verdict.under])}: "
            f"the conventions move test accuracy by {100 * effect:+.2f} points, "
            f"{self.within(effect, verdict.threshold)}."
        )
        gap = verdict.framework_gap
        if gap is not None and verdict.framework is not None:
            text += (
                f" {self.label(verdict.framework.target)} against {reference} under the same "
                f"conventions: {100 * gap:+.2f} points, {self.within(gap, verdict.threshold)}."
            )
        return text

    @staticmethod
    def within(difference: float, threshold: float) -> str:
        verdict = "beyond noise" if abs(difference) > threshold else "within noise"
        return f"{verdict} (threshold {pts(threshold)})"

    def accuracies(self, scored: Sequence[f.Score]) -> str:
        listed = ", ".join(f"{self.label(s.target)} {pct(s.accuracy)}" for s in scored)
        return listed + self.over_seeds(scored)

    @staticmethod
    def over_seeds(scored: Sequence[f.Score]) -> str:
        return " (means over seeds)" if any(s.seeds > 1 for s in scored) else ""

    def noise(self, limit: f.Noise) -> str:
        if limit.from_seeds:
            return (
                f"Noise: {self.noise_basis(limit)} = {pts(limit.threshold)}; smaller "
                "differences cannot be told from noise."
            )
        return (
            f"Noise: {self.noise_basis(limit)}; differences below 2√2 SE ({pts(limit.threshold)} "
            "here) cannot be told from noise."
        )

    @staticmethod
    def noise_basis(limit: f.Noise) -> str:
        if limit.from_seeds:
            return (
                f"2√2 σ/√k for means over k = {limit.seeds} seeds, where σ = {pts(limit.sigma)} "
                "is the standard deviation of test accuracy over seeds (pooled over "
                f"{limit.configurations} configurations)"
            )
        return (
            f"one seed only: 2√2 SE, where SE = √(p(1 − p)/n) = {pts(limit.se)} is the binomial "
            f"standard error of a test accuracy p = {pct(limit.p)} on n = {limit.n:,} images"
        )

    def cause(self, cause: f.Cause) -> str:
        match cause:
            case f.OwnChoices(init_draw, batch_order):
                choices = ["draws its own initial weights"] if init_draw else []
                choices += ["shuffles the batches in its own order"] if batch_order else []
                return (
                    f"Each framework {' and '.join(choices)} in this variant, so the runs are "
                    "different experiments and the gap measures those choices, not the arithmetic."
                )
            case f.ConventionsDiffer(frameworks):
                named = "; ".join(
                    f"{self.name(name)}: {self.fields(fields)}" for name, fields in frameworks
                )
                return (
                    f"The frameworks' built-ins follow other conventions than "
                    f"{self.name(f.REFERENCE)}'s own ({named}), so these runs compute different "
                    "formulas; the reference under each framework's conventions shows what "
                    "the conventions change (below)."
                )
            case f.NoLockstep():
                return "No lockstep check ran, so whether the computations differ is not shown."
            case f.PartedTrajectories():
                return "The lockstep check shows trajectories that part (see below)."
            case f.Compounding(steps, variant, epochs):
                return (
                    f"The lockstep check ({steps} steps of {variant}) shows the same computation "
                    "to rounding, so the gap grows from rounding differences compounding over the "
                    f"whole run ({epochs} epochs), not from a different formula."
                )
        raise TypeError(f"no sentence for {cause!r}")

    @staticmethod
    def where(where: f.Where) -> str:
        return (
            f"{where.variant}, {where.dtype}, {where.steps} steps from the same weights and batches"
        )

    def parted(self, verdict: f.Parted) -> str:
        size = (
            "weights that are no longer finite" if verdict.last is None else f"{verdict.last:.1e}"
        )
        start = f" from {verdict.before:.1e}" if verdict.before is not None else ""
        text = (
            f"{self.label(verdict.target)} parts from {self.trajectory(verdict.reference)} "
            f"at step {verdict.first_step} ({self.where(verdict.where)}): the largest weight "
            f"difference grows{start} to {size} by step {verdict.where.steps}, beyond float "
            f"rounding (≤ {verdict.bound:.0e})."
        )
        causes = [self.part_cause(c) for c in verdict.causes]
        return text + (" Why: " + "; ".join(causes) + "." if causes else "")

    @staticmethod
    def part_cause(cause: f.PartCause) -> str:
        match cause:
            case f.Kink(step, gap, dtype, size):
                return (
                    f"at step {step} the unit behind {gap_name(gap)} was {gap.kink_margin:.1e} "
                    f"from its ReLU kink on one image, within {dtype} rounding, so the frameworks "
                    "can disagree on whether it is active: that step's updates there differ by "
                    f"{size:.1e}"
                )
            case f.AdamFlip(step, gap, lr):
                return (
                    f"at step {step} the updates of {gap_name(gap)} have opposite signs "
                    f"({gap.update:+.1e} against {gap.reference_update:+.1e}, lr {lr:g}): Adam's "
                    "normalized step m̂/(√v̂ + ε) turns a near-zero gradient into a step of up to "
                    "±lr whatever its size, and its momentum keeps the two copies moving apart"
                )
            case f.NearEpsilon(step, gap, relative, dtype):
                return (
                    f"{Prose.differs(step, gap, relative)}: Adam's first step is −lr·g/(|g| + ε), "
                    f"and one below 0.9·lr means |g| < 9ε, a gradient near zero whose {dtype} "
                    "rounding Adam turns into a different step"
                )
            case f.OtherGradient(step, gap, relative, dtype):
                return (
                    f"{Prose.differs(step, gap, relative)} with no ReLU kink near, more than "
                    f"{dtype} rounding of the update itself gives: either the sum that forms this "
                    "gradient cancels (its terms far larger than the result), or the two compute "
                    "it differently"
                )
            case f.NothingInCommon():
                return "the difference is as large as the weights: the runs have nothing in common"
        raise TypeError(f"no sentence for {cause!r}")

    @staticmethod
    def differs(step: int, gap: UpdateGap, relative: float) -> str:
        return (
            f"at step {step} the update of {gap_name(gap)} differs by {100 * relative:.2g}% "
            f"({gap.update:.4e} against {gap.reference_update:.4e})"
        )

    # ---- the whole study -----------------------------------------------------------------

    def summary(self, summary: f.Summary | None) -> list[str]:
        """The answer, in a few paragraphs a reader sees first (the anomalies apart)."""
        if summary is None:
            return ["No training run was recorded."]
        t = summary.tally
        counts = ", ".join(f"{n} {s}" for s, n in t.counts)
        lines = [
            f"**Compared:** {', '.join(self.label(x) for x in t.targets) or 'nothing'} on "
            f"{t.experiments} experiment(s), {t.variants} variant(s): {t.runs} runs ({counts})."
        ]
        lines.append("**Same network?** " + self.network(summary.network))
        lines.append("**Accuracy:** " + self.accuracy(summary.accuracy))
        if summary.speeds:
            noise = (
                f" The same configuration run twice moved a target's median epoch time by up "
                f"to {100 * summary.timing_noise:.0f}%, so read these ratios to about that "
                "precision."
                if summary.timing_noise is not None
                else " Each ratio comes from single runs on one machine; repeat the run to see "
                "how much it moves."
            )
            lines.append(
                "**Speed:** "
                + "; ".join(self.speed(s) for s in summary.speeds)
                + ". Epoch times are medians over each run's epochs, "
                + self.layout()
                + "."
                + noise
            )
        wall = self.wall_time()
        if wall:
            lines.append("**Wall time:** " + wall)
        return lines

    def anomalies(self, summary: f.Summary | None) -> list[str]:
        """The runs and trajectories that went wrong, one item each."""
        found = summary.anomalies if summary else ()
        return [f"`{a.experiment}`: {self.verdict(a.verdict)}" for a in found]

    def network(self, verdict: f.Network | None) -> str:
        if verdict is None:
            return "not checked (no lockstep equivalence was run)."
        checked = (
            f"{verdict.steps} {'/'.join(verdict.dtypes)} steps from the same weights and batches"
        )
        if verdict.same:
            every = "every framework checked" if verdict.left_out else "every framework"
            answer = (
                f"yes: in all {verdict.checks} lockstep checks ({checked}) {every} stays "
                "on NumPy's trajectory"
            )
        elif verdict.broken:
            answer = (
                f"not shown: a run diverged or failed ({verdict.checks} lockstep checks, {checked})"
            )
        else:
            answer = (
                f"mostly: {verdict.total - len(verdict.parted_in)} of {verdict.total} framework "
                f"trajectories stay at rounding level over {verdict.checks} lockstep checks "
                f"({checked})"
            )
        parts = [answer]
        if verdict.largest:
            parts.append(
                "largest weight difference at rounding level: "
                + ", ".join(f"{self.label(t)} {value:.1e}" for t, value in verdict.largest)
            )
        if verdict.parted_in:
            parts.append(
                "trajectories part for "
                + ", ".join(f"{self.label(t)} in `{e}`" for t, e in verdict.parted_in)
                + " (see Anomalies)"
            )
        if verdict.left_out:
            parts.append(
                "left out of the check, as their runs are not run: "
                + ", ".join(
                    f"{self.label(t)} in `{e}` ({field})" for t, e, field in verdict.left_out
                )
            )
        if verdict.broken:
            parts.append(
                "not every run finished: "
                + ", ".join(
                    f"{self.run_label(r)} in `{r.experiment}`/{r.variant}" for r in verdict.broken
                )
            )
        return "; ".join(parts) + "."

    def accuracy(self, verdict: f.Accuracy) -> str:
        if not verdict.compared:
            return "no variant has two finished runs that learned, so there is nothing to compare."
        thresholds = verdict.thresholds
        threshold = (
            pts(thresholds[0])
            if len({f"{t:.4f}" for t in thresholds}) == 1
            else f"{100 * min(thresholds):.2f}–{pts(max(thresholds))}"
        )
        text = (
            f"in {verdict.agree} of {verdict.compared} compared variants every finished run "
            f"reaches the same test accuracy within noise (threshold {threshold}, from the "
            "binomial error of one seed's test accuracy or the seed spread where there are seeds)"
        )
        if verdict.disagreeing:
            text += "; beyond noise: " + ", ".join(f"`{e}`/{v}" for e, v in verdict.disagreeing)
        if verdict.differences:
            reference = self.label(f.REFERENCE_TARGET)
            if verdict.under_conventions:
                reference += " (under each framework's conventions where they differ from its own)"
            text += f". Against {reference}: " + "; ".join(
                f"{self.label(t)} {100 * statistics.median(d):+.2f} points (median; "
                f"{100 * min(d):+.2f} to {100 * max(d):+.2f})"
                for t, d in verdict.differences
            )
        return text + "."

    def speed(self, speed: f.Speed) -> str:
        low, high = min(speed.ratios), max(speed.ratios)
        many = len(speed.ratios) > 1
        spread = f", {low:.2f}–{high:.2f}× across them" if many else ""
        reference = self.label(f.REFERENCE_TARGET)
        return (
            f"{self.label(speed.target)} takes {speed.median:.2f}× {reference}'s time per epoch "
            f"(median over {len(speed.ratios)} variant{'s' * many}{spread})"
        )

    def layout(self) -> str:
        """How the runs shared the machine, for every timing: the sessions' executors."""
        described = list(dict.fromkeys(executor(s.executor) for s in self.results.sessions))
        return "measured " + "; then ".join(described) if described else "measured in one process"

    def wall_time(self) -> str:
        """The study's wall time in each session, beside the sum of its runs' times (what one
        process running them one after another would have taken, about)."""
        sessions = [s for s in self.results.sessions if s.wall_seconds is not None]
        if not sessions:
            return ""
        runs = [r for e in self.results.experiments for r in e.runs if r.metrics is not None]
        total = sum(r.metrics.seconds_wall for r in runs if r.metrics is not None)
        parts = [session_time(s) for s in sessions]
        text = "; ".join(parts)
        if runs:
            overlapped = any(s.executor.workers > 1 for s in sessions)
            text += (
                f". The {len(runs)} finished runs' training calls sum to {minutes(total)}: about "
                "what one process would take for them one after another"
                + (
                    " (measured while runs overlapped, so somewhat more than alone)"
                    if overlapped
                    else ""
                )
            )
        return text + "."

    def repeat(self, pair: tuple[str, str], group: Sequence[f.Repeat]) -> str:
        """What running the same configuration twice shows: reproducible accuracy, noisy
        timings."""
        same = [self.label(r.target) for r in group if r.accuracies[0] == r.accuracies[1]]
        moved = [
            f"{self.label(r.target)} {pct(r.accuracies[0])} and {pct(r.accuracies[1])}"
            for r in group
            if r.accuracies[0] != r.accuracies[1]
        ]
        parts = [f"identical test accuracy for {', '.join(same)}"] if same else []
        parts += [f"different test accuracy for {', '.join(moved)}"] if moved else []
        times = ", ".join(
            f"{self.label(r.target)} {r.seconds[0]:.3f} and {r.seconds[1]:.3f} s "
            f"({100 * r.timing_change:.0f}%)"
            for r in group
        )
        return (
            f"`{pair[0]}` and `{pair[1]}` are the same configuration run twice: "
            f"{'; '.join(parts)}; median epoch times {times}. That is the run-to-run timing "
            f"noise here, {self.layout()}."
        )

    def published(self, item: f.PublishedComparison) -> str:
        who = self.name(item.framework) if item.framework != "all" else "for every framework"
        note = f" ({item.note})" if item.note else ""
        when = f"after epoch {item.epoch}" if item.epoch is not None else "at the end"
        others = [f"{self.run_label(r)} {pct(value)}" for r, value in item.others]
        also = f"; same variant and epoch: {', '.join(others)}" if others else ""
        verdict = "beyond noise" if item.beyond else "within noise"
        return (
            f"Published {who} {pct(item.published)}{note}; measured {self.run_label(item.run)} "
            f"{pct(item.measured)} {when} ({item.run.variant}): {100 * item.difference:+.2f} "
            f"points, {verdict}{also}."
        )

    @staticmethod
    def loss_split_summary(splits: Sequence[f.LossSplit]) -> str:
        framework = statistics.mean(abs(s.framework_part) for s in splits)
        method = statistics.mean(abs(s.method_part) for s in splits)
        return (
            f"Over these {len(splits)} comparisons the framework moves test accuracy by "
            f"{pts(framework)} on average and the method (the loss) by {pts(method)}: the gap "
            + ("is mostly the method." if method > framework else "is mostly the framework.")
        )

    # ---- the defaults study --------------------------------------------------------------

    def effect(self, effect: study.Effect) -> str:
        """ "PyTorch +0.98 ± 0.34 *beyond noise*", or why there is no effect."""
        name = self.name(effect.framework)
        if effect.delta is None:
            why = self.outcome(effect.missing) if effect.missing else "no finished run"
            return f"{name}: {short(why)}"
        mark = " *beyond noise*" if effect.beyond else ""
        same = " (identical runs: every seed predicts as the base does)" if effect.identical else ""
        if effect.seeds > 1:
            return f"{name} {100 * effect.delta:+.2f} ± {100 * effect.threshold:.2f}{mark}{same}"
        return f"{name} {100 * effect.delta:+.2f} (one seed){same}"

    @staticmethod
    def start(effect: WeightEffect) -> str:
        """From where the row's weights were trained, against the base's."""
        if effect.own_start:
            return "another start"
        if effect.other_order:
            return "another permutation"
        return "same start and batches"

    def weights_cell(self, effect: WeightEffect | None) -> str:
        if effect is None:
            return "not measured"
        return (
            f"{effect.relative_weight_difference:.1e} largest, "
            f"{effect.relative_norm_difference:.1e} in norm ({self.start(effect)})"
        )

    def part(self, effect: study.Effect) -> str:
        delta = 100 * (effect.delta or 0.0)
        if effect.seeds < 2:
            return f"{delta:+.2f} points (one seed, no spread)"
        verdict = "beyond noise" if effect.beyond else "within noise"
        return f"{delta:+.2f} points ({verdict}, bound {100 * effect.threshold:.2f})"

    def study_findings(self, result: study.StudyResult) -> list[str]:
        """The study's findings: which defaults matter, on the weights, the tutorial gaps."""
        matter, quiet = [], []
        for row in result.rows:
            ran = [e for e in row.effects if e.delta is not None]
            beyond = [e for e in ran if e.beyond]
            if beyond:
                matter.append(f"{row.default.name} ({'; '.join(self.effect(e) for e in beyond)})")
            elif ran:
                largest = max(ran, key=lambda e: abs(e.delta or 0.0))
                quiet.append(f"{row.default.name} (largest: {self.effect(largest)})")
        epochs = f"{result.epochs} epoch{'s' * (result.epochs != 1)}"
        lines = []
        if result.seeds < 2:
            lines.append(
                f"With one seed there is no seed spread to judge the effects against (after "
                f"{epochs}); run with --seeds."
            )
        elif matter:
            lines.append(
                f"Defaults that change test accuracy beyond the seed spread (after {epochs}, "
                f"{result.seeds} seeds): " + "; ".join(matter) + "."
            )
        else:
            lines.append(
                f"No default changes test accuracy beyond the seed spread (after {epochs}, "
                f"{result.seeds} seeds)."
            )
        if quiet:
            lines.append("Within the seed spread: " + "; ".join(quiet) + ".")
        biggest = result.largest_weight_effect
        if biggest is not None and result.weights is not None:
            names = {r.variant: r.default.name for r in result.rows}
            others = ", ".join(
                f"{names[w.variant]} {w.relative_norm_difference:.1e}"
                for w in result.weights.rows
                if w is not biggest
            )
            lines.append(
                f"On the weights, after {result.weights.steps} float64 steps, the largest change "
                f"is the {names[biggest.variant]}'s ({biggest.relative_norm_difference:.1e} of "
                f"the weights' norm, {self.start(biggest)}); "
                f"{others}. A change at rounding level (about 1e-14) means the default did not "
                "act in those steps."
            )
        for gap in result.gaps:
            lines.append(self.tutorial_gap(gap, result.study.columns))
        return lines

    def tutorial_gap(self, gap: study.TutorialGap, columns: dict[str, str]) -> str:
        """The gap between two tutorials and its parts; each framework named as the study's
        columns name its defaults ("Keras" for tf), else by its display name."""
        first, other = gap.first, gap.other
        a = columns.get(first.framework, self.name(first.framework))
        b = columns.get(other.framework, self.name(other.framework))
        if not gap.complete:
            return (
                f"The tutorial gap of {other.variant} cannot be split: a tutorial variant did not "
                "finish in every framework it needs."
            )
        reference = self.name(f.REFERENCE)
        return (
            f"The tutorial gap, {b} as its tutorial writes it ({other.variant}) minus {a} as "
            f"its tutorial writes it ({first.variant}), is {self.part(gap.gap)}. Of it, the "
            f"defaults ({reference} trained with {b}'s defaults minus with {a}'s) account for "
            f"{self.part(gap.defaults)}; the frameworks themselves for "
            f"{self.part(gap.other_framework)} ({b} against {reference} with {b}'s defaults) "
            f"and {self.part(gap.first_framework)} ({reference} with {a}'s defaults against "
            f"{a})."
        )


def executor(item: Executor) -> str:
    """How a session's runs shared the machine: "on 2 Dask workers on this machine, 1 thread
    each, pinned to cores 0 and 1 (runs overlapped)", or "in one process, one run at a
    time, 1 thread"."""
    threads = (
        "each framework's default threads"
        if item.threads == 0
        else (f"{item.threads} thread{'s' * (item.threads > 1)}")
    )
    if item.kind == "sequential":
        return f"in one process, one run at a time, {threads}"
    pinned = ""
    if item.cores:
        pinned = ", pinned to cores " + and_list(
            ["+".join(map(str, cores)) for cores in item.cores]
        )
    where = "on this machine" if item.kind == "local" else f"of the cluster at {item.address}"
    return f"on {item.workers} Dask workers {where}, {threads} each{pinned}" + (
        " (runs overlapped)" if item.workers > 1 else ""
    )


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def session_time(session: Session) -> str:
    seconds = session.wall_seconds or 0.0
    return (
        f"{minutes(seconds)} for {session.tasks} task{'s' * (session.tasks != 1)} "
        f"{executor(session.executor)} (`{session.command}`)"
    )
