"""report.md and results.csv, rendered from the results model alone (`mlp-compare report DIR`).

The layout only: the answer first, then one line per framework × device that did not run,
the environment and how the runs shared it, and one section per experiment with its tables,
findings, digits and plots. Every sentence comes from `mlp_compare.prose`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from mlp_compare import defaults_study, digits, findings, overhead, plots, seeds
from mlp_compare.prose import Prose, pct, short
from mlp_compare.records import Environment, Experiment, Results, Run, Variant
from mlp_compare.results import write_text

CSV_COLUMNS = (
    "experiment", "variant", "framework", "device", "backend_device", "conventions", "status",
    "reason", "seed", "batch_size", "init", "loss", "optimizer", "epochs",
    "final_train_accuracy", "final_test_accuracy", "best_test_accuracy", "generalization_gap",
    "final_loss", "seconds_training", "seconds_wall", "cpu_seconds", "median_epoch_seconds",
    "min_epoch_seconds", "max_epoch_seconds", "steps_per_second", "parameters", "worker",
)  # fmt: skip
COLUMNS_EXPLAINED = (
    "Columns: *training (s)* sums the epochs' training time (evaluation excluded); "
    "*s/epoch* is the median over the run's epochs, with the fastest and slowest in brackets; "
    "*process CPU (s)* is the CPU time of the process that trained the run over the whole "
    "training call, every thread counted, including each epoch's evaluation and any tracing "
    "or compiling."
)


def percent(value: float | None) -> str:
    return "—" if value is None else pct(value)


def render(folder: Path, results: Results) -> list[Path]:
    """Write results.csv, the plots, the digit galleries and report.md; return the files."""
    written = [folder / "results.csv"]
    write_text(written[0], table_csv(results))
    names = {name: results.display(name) for name in results.environment.frameworks}
    figures: dict[str, list[Path]] = {}
    notes: dict[str, list[str]] = {}
    for experiment in results.experiments:
        drawn = plots.experiment_plots(experiment, names, folder / "plots")
        gallery, missing = digits.experiment_digits(experiment, names, folder)
        figures[experiment.name] = gallery + drawn
        notes[experiment.name] = missing
        written += gallery + drawn
    write_text(folder / "report.md", report_markdown(results, figures, notes, folder))
    written.append(folder / "report.md")
    return written


def describe_init(variant: Variant) -> str:
    if variant.init_from:
        return f"NumPy {variant.init_from} weights"
    init = variant.spec["init"]
    scheme = init["scheme"]
    if scheme == "normal":
        return f"N(0, {init['scale']:g}²)"
    if scheme == "uniform":
        return f"U({init['low']:g}, {init['high']:g})"
    return scheme.replace("_", " ")


def describe_training(variant: Variant) -> tuple[str, str, str]:
    spec = variant.spec
    batch = spec["training"]["batch_size"]
    loss = f"{spec['loss']['name']} ({spec['loss']['reduction']})"
    optimizer = spec["training"]["optimizer"]["name"]
    if optimizer == "sgd" and spec["training"]["optimizer"]["momentum"]:
        optimizer += f" momentum {spec['training']['optimizer']['momentum']:g}"
        optimizer += " nesterov" if spec["training"]["optimizer"]["nesterov"] else ""
    schedule = spec["training"]["schedule"]
    optimizer += f", lr {schedule['lr']:g}" + (
        f" {schedule['name']}" if schedule["name"] != "constant" else ""
    )
    return str(batch), loss, optimizer


def table_csv(results: Results) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for experiment in results.experiments:
        for run in experiment.runs:
            variant = experiment.variant(run.variant)
            batch, loss, optimizer = describe_training(variant)
            row: dict[str, object] = {
                "experiment": experiment.name,
                "variant": run.variant,
                "framework": run.framework,
                "device": run.device,
                "backend_device": run.backend_device,
                "conventions": run.conventions,
                "status": run.status,
                "reason": run.reason,
                "seed": run.seed if run.seed is not None else variant.spec["training"]["seed"],
                "batch_size": batch,
                "init": describe_init(variant),
                "loss": loss,
                "optimizer": optimizer,
                "epochs": variant.spec["training"]["epochs"],
                "worker": run.worker.name if run.worker else None,
            }
            if run.metrics is not None:
                row.update({k: v for k, v in run.metrics.model_dump().items() if k in CSV_COLUMNS})
            seconds = sorted(run.epoch_seconds)
            if seconds:
                row.update(
                    median_epoch_seconds=run.median_epoch_seconds,
                    min_epoch_seconds=seconds[0],
                    max_epoch_seconds=seconds[-1],
                )
            writer.writerow(row)
    return buffer.getvalue()


def report_markdown(
    results: Results, figures: dict[str, list[Path]], notes: dict[str, list[str]], folder: Path
) -> str:
    prose = Prose(results)
    lines = [
        f"# mlp-compare report: {results.run_id}",
        "",
        f"`{results.command}` — started {results.started}, "
        f"finished {results.finished or '—'}, status **{results.status}**.",
        "",
    ]
    if results.status == "interrupted":
        lines += [
            "> The study was interrupted: this report holds the runs that finished "
            "(`mlp-compare run --resume DIR` runs the rest).",
            "",
        ]
    lines += ["## Summary", ""]
    answer = findings.summary(results)
    for paragraph in prose.summary(answer):
        lines += ["", paragraph]
    anomalies = prose.anomalies(answer)
    if anomalies:
        lines += ["", "**Anomalies:**", *[f"- {item}" for item in anomalies]]
    lines += [""]
    lines += not_run_lines(results, prose)
    lines += [
        "Sections: " + ", ".join(f"[{e.name}](#{anchor(e.title)})" for e in results.experiments),
        "",
    ]
    lines += environment_lines(results.environment, prose)
    repeated = findings.repeats(results.experiments)
    if repeated:
        lines += ["## Run-to-run noise", ""]
        for pair in dict.fromkeys((r.first, r.second) for r in repeated):
            group = [r for r in repeated if (r.first, r.second) == pair]
            lines.append(f"- {prose.repeat(pair, group)}")
        lines += [""]
    lines += overhead.report_lines(folder)  # `bench --sweep --out FOLDER` wrote its CSVs here
    lines += [f"{COLUMNS_EXPLAINED} Times {prose.layout()}.", ""]
    for experiment in results.experiments:
        lines += experiment_lines(
            experiment,
            prose,
            figures.get(experiment.name, []),
            notes.get(experiment.name, []),
            folder,
        )
    return "\n".join(lines).rstrip() + "\n"


def anchor(title: str) -> str:
    """The GitHub heading anchor of a title."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def not_run_lines(results: Results, prose: Prose) -> list[str]:
    """One line per framework × device × reason that could not run, however many runs."""
    seen: dict[tuple[str, str, str], Run] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for experiment in results.experiments:
        for run in experiment.runs:
            if run.status != "skipped":
                continue
            key = (run.framework, run.device, run.reason or "")
            seen.setdefault(key, run)
            counts[key] = counts.get(key, 0) + 1
    if not seen:
        return []
    lines = ["**Not run:**", ""]
    for key, run in seen.items():
        hint = ""
        if run.hint:
            extra = f"pip install 'packages/mlp-compare[{run.framework}]'"
            hint = f" Install: `{run.hint}` (or `{extra}`)."
        lines.append(
            f"- {prose.name(run.framework)} on {run.device}: {run.reason}.{hint} "
            f"({counts[key]} run{'s' * (counts[key] > 1)})"
        )
    return [*lines, ""]


def environment_lines(env: Environment, prose: Prose) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in env.packages.items() if v)
    threads = ", ".join(f"{k}={v}" for k, v in env.threads.items() if v is not None)
    frameworks = "; ".join(
        f"{info.display} "
        + (f"on {', '.join(info.devices)}" if info.available else "not installed")
        for info in env.frameworks.values()
    )
    return [
        "## Environment",
        "",
        f"- CPU: {env.cpu_model} ({env.cpu_count} logical cores); "
        f"threads: {threads or 'defaults'}; GPU: {env.gpu or 'none detected'}",
        f"- Runs: {prose.layout()}",
        f"- Python {env.python} on {env.platform}; {frameworks}",
        f"- Packages: {versions}",
        "",
    ]


def experiment_lines(
    experiment: Experiment, prose: Prose, figures: list[Path], notes: list[str], folder: Path
) -> list[str]:
    sizes = experiment.data_sizes
    lines = [
        f"## {experiment.title}",
        "",
        f"Experiment `{experiment.name}`, from {experiment.source}. "
        + " ".join(experiment.description.split()),
        "",
        f"Data: {sizes.train:,} training and {sizes.test:,} test images"
        + (f", {sizes.validation:,} for validation" if sizes.validation else "")
        + f", pixels {experiment.data['scaling']}d.",
        "",
    ]
    published = experiment.published
    if published.summary:
        lines += [f"Published ({published.source}): {' '.join(published.summary.split())}", ""]
    lines += variant_lines(experiment)
    lines += result_table(experiment, prose)
    lines += ["", f"Times {prose.layout()}."]
    lines += ["", "### Findings", ""]
    lines += [f"- {prose.verdict(v)}" for v in findings.experiment_verdicts(experiment)]
    lines += [f"- {prose.published(p)}" for p in findings.against_published(experiment)]
    lines += seed_table(experiment, prose)
    lines += study_lines(experiment, prose)
    splits = findings.loss_splits(experiment)
    if splits:
        lines += ["", *loss_split_table(splits, prose), "", prose.loss_split_summary(splits)]
    if notes:
        lines += ["", *[f"> {note}" for note in notes]]
    if figures:
        lines += ["", "### Digits and plots", ""]
        lines += [f"![{p.stem}]({p.relative_to(folder).as_posix()})" for p in figures]
    return [*lines, ""]


def variant_lines(experiment: Experiment) -> list[str]:
    lines = ["| variant | batch | loss | init | optimizer |", "|---|---:|---|---|---|"]
    for variant in experiment.variants:
        batch, loss, optimizer = describe_training(variant)
        init = describe_init(variant)
        lines.append(f"| {variant.name} | {batch} | {loss} | {init} | {optimizer} |")
    return [*lines, ""]


def epoch_spread(run: Run) -> str:
    """Median epoch time and its spread: '0.820 (0.790–0.950)'."""
    seconds = run.epoch_seconds
    if not seconds:
        return "—"
    median = run.median_epoch_seconds or 0.0
    if len(seconds) == 1:
        return f"{median:.3f}"
    return f"{median:.3f} ({min(seconds):.3f}–{max(seconds):.3f})"


def result_table(experiment: Experiment, prose: Prose) -> list[str]:
    lines = [
        "| variant | run | train acc | test acc | gap | training (s) | s/epoch | process CPU (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in experiment.runs:
        if run.status == "skipped" and run.backend_device is None:
            continue
        label = prose.run_label(run) + (f", seed {run.seed}" if experiment.seeds else "")
        if not run.finished or run.metrics is None:
            lines.append(f"| {run.variant} | {label} | {short(prose.outcome(run))} | | | | | |")
            continue
        m = run.metrics
        lines.append(
            f"| {run.variant} | {label} | {percent(m.final_train_accuracy)} "
            f"| {percent(m.final_test_accuracy)} | {percent(m.generalization_gap)} "
            f"| {m.seconds_training:.2f} | {epoch_spread(run)} | {m.cpu_seconds:.1f} |"
        )
    for item in experiment.published.results:
        variant = item.variant or "—"
        when = f" (epoch {item.epoch})" if item.epoch else ""
        who = prose.name(item.framework) if item.framework != "all" else "every framework"
        lines.append(
            f"| {variant} | {who} (published){when} | {percent(item.train_accuracy)} "
            f"| {percent(item.test_accuracy)} | | | | |"
        )
    return lines


def spread_text(entry: seeds.Spread, scale: float = 100.0, places: int = 2) -> str:
    """'mean ± std (min–max)' of a summary metric, times `scale` (points for accuracies)."""
    m, s = entry.mean * scale, entry.std * scale
    low, high = entry.min * scale, entry.max * scale
    return f"{m:.{places}f} ± {s:.{places}f} ({low:.{places}f}–{high:.{places}f})"


def seed_table(experiment: Experiment, prose: Prose) -> list[str]:
    """Each configuration's test accuracy over seeds: mean ± std (min–max), in percent."""
    if not experiment.seeds:
        return []
    summary = seeds.summarize(experiment.runs)
    if not summary:
        return []
    lines = [
        "",
        "Over seeds (test accuracy in %: mean ± sample standard deviation, min–max):",
        "",
        "| variant | run | seeds | test accuracy | final loss |",
        "|---|---|---|---|---|",
    ]
    for entry in summary:
        accuracy = entry.metrics.get("final_test_accuracy")
        loss = entry.metrics.get("final_loss")
        lines.append(
            f"| {entry.variant} | {prose.label(entry.target)} | {len(entry.seeds)} | "
            f"{spread_text(accuracy) if accuracy else '—'} | "
            f"{spread_text(loss, 1.0, 4) if loss else '—'} |"
        )
    return lines


def study_lines(experiment: Experiment, prose: Prose) -> list[str]:
    """The defaults study's section: the table of its rows and its findings."""
    result = defaults_study.analyse(experiment)
    if result is None:
        return []
    study = result.study
    base = study.base
    heading = " | ".join(study.columns.values())
    steps = result.weights.steps if result.weights else defaults_study.STEPS
    lines = [
        "",
        "### The framework-defaults study",
        "",
        f"Base: `{base}`. Each row switches one default to another framework's value. "
        "Test-accuracy effects are the mean over seeds of the row's variant minus the base's, "
        "per framework, ± the noise bound 2√2 σ/√k (σ: the pooled standard deviation over the "
        "k seeds); *beyond noise* marks a larger one.",
        "",
        f"| default | {heading} | effect on test accuracy (points, mean difference ± noise "
        f"bound over seeds) | effect on the weights after {steps} float64 steps from the "
        "same start |",
        "|---|" + "---|" * len(study.columns) + "---|---|",
    ]
    for row in result.rows:
        values = " | ".join(row.default.values.values())
        effects = "; ".join(prose.effect(e) for e in row.effects)
        lines.append(
            f"| {row.default.name} | {values} | {effects} | {prose.weights_cell(row.weights)} |"
        )
    lines += ["", *[f"- {line}" for line in prose.study_findings(result)]]
    return lines


def loss_split_table(splits: list[findings.LossSplit], prose: Prose) -> list[str]:
    reference = prose.name(findings.REFERENCE)
    lines = [
        f"How much of the {reference}-vs-framework gap is the framework (same loss) and how much "
        "the method (same framework, other loss), in test-accuracy points:",
        "",
        f"| variant (loss A) | other loss (B) | framework | {reference}, A | framework, A "
        "| framework, B | framework part | method part |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in splits:
        lines.append(
            f"| {s.first} | {s.second} | {prose.name(s.framework)} | {pct(s.reference_a)} "
            f"| {pct(s.framework_a)} | {pct(s.framework_b)} | {100 * s.framework_part:+.2f} "
            f"| {100 * s.method_part:+.2f} |"
        )
    return lines
