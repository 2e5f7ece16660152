"""report.md and results.csv, rendered from results.json alone (`mlp-compare report DIR`).

The layout only: the answer first (`findings.summary`), then one line per framework × device
that did not run, the environment, and one section per experiment with its table, findings,
digits and plots. Every sentence comes from `mlp_compare.findings`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from mlp_compare import defaults_study, digits, findings, overhead, plots
from mlp_compare.results import write_text
from mlp_compare.typed_results import NAMES, ExperimentResult, experiments

CSV_COLUMNS = (
    "experiment", "variant", "framework", "device", "backend_device", "status", "reason",
    "seed", "batch_size", "init", "loss", "optimizer", "epochs", "final_train_accuracy",
    "final_test_accuracy", "best_test_accuracy", "generalization_gap", "final_loss",
    "seconds_training", "seconds_wall", "cpu_seconds", "median_epoch_seconds",
    "min_epoch_seconds", "max_epoch_seconds", "steps_per_second", "parameters",
)  # fmt: skip
COLUMNS_EXPLAINED = (
    "Columns: *training (s)* sums the epochs' training time (evaluation excluded); "
    "*s/epoch* is the median over the run's epochs, with the fastest and slowest in brackets; "
    "*process CPU (s)* is this process's CPU time over the whole training call, every thread "
    "counted, including each epoch's evaluation and any tracing or compiling."
)


def pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def render(folder: Path, results: dict[str, Any]) -> list[Path]:
    """Write results.csv, the plots, the digit galleries and report.md; return the files."""
    written = [folder / "results.csv"]
    write_text(written[0], table_csv(results))
    typed = experiments(results)
    figures: dict[str, list[Path]] = {}
    notes: dict[str, list[str]] = {}
    for raw, experiment in zip(results["experiments"], typed, strict=True):
        drawn = plots.experiment_plots(raw, folder / "plots")
        gallery, missing = digits.experiment_digits(raw, experiment, folder)
        figures[experiment.name] = gallery + drawn
        notes[experiment.name] = missing
        written += gallery + drawn
    write_text(folder / "report.md", report_markdown(results, typed, figures, notes, folder))
    written.append(folder / "report.md")
    return written


def variant_spec(experiment: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in experiment["variants"] if v["name"] == name)


def describe_init(experiment: dict[str, Any], variant_name: str) -> str:
    variant = variant_spec(experiment, variant_name)
    if variant["init_from"]:
        return f"NumPy {variant['init_from']} weights"
    init = variant["spec"]["init"]
    scheme = init["scheme"]
    if scheme == "normal":
        return f"N(0, {init['scale']:g}²)"
    if scheme == "uniform":
        return f"U({init['low']:g}, {init['high']:g})"
    return scheme.replace("_", " ")


def describe_training(experiment: dict[str, Any], variant_name: str) -> tuple[str, str, str]:
    spec = variant_spec(experiment, variant_name)["spec"]
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


def table_csv(results: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for experiment in results["experiments"]:
        for run in experiment["runs"]:
            batch, loss, optimizer = describe_training(experiment, run["variant"])
            metrics = run["metrics"] or {}
            row = {key: run.get(key) for key in CSV_COLUMNS}
            row.update({key: metrics.get(key) for key in CSV_COLUMNS if key in metrics})
            seconds = sorted(h["seconds"] for h in run["history"])
            if seconds:
                middle = len(seconds) // 2
                median = (
                    seconds[middle]
                    if len(seconds) % 2
                    else (seconds[middle - 1] + seconds[middle]) / 2
                )
                row.update(
                    median_epoch_seconds=median,
                    min_epoch_seconds=seconds[0],
                    max_epoch_seconds=seconds[-1],
                )
            spec = variant_spec(experiment, run["variant"])["spec"]
            row.update(
                experiment=experiment["name"],
                batch_size=batch,
                init=describe_init(experiment, run["variant"]),
                loss=loss,
                optimizer=optimizer,
                epochs=metrics.get("epochs", spec["training"]["epochs"]),
                seed=run.get("seed", spec["training"]["seed"]),
            )
            writer.writerow(row)
    return buffer.getvalue()


def report_markdown(
    results: dict[str, Any],
    typed: list[ExperimentResult],
    figures: dict[str, list[Path]],
    notes: dict[str, list[str]],
    folder: Path,
) -> str:
    lines = [
        f"# mlp-compare report: {results['run_id']}",
        "",
        f"`{results['command']}` — started {results['started']}, "
        f"finished {results['finished'] or '—'}, status **{results['status']}**.",
        "",
    ]
    if results["status"] == "interrupted":
        lines += ["> The run was interrupted: this report holds the runs that finished.", ""]
    lines += ["## Summary", ""]
    for line in findings.summary(typed):
        lines += [line] if line.startswith("- ") else ["", line]
    lines += [""]
    lines += not_run_lines(results)
    lines += [
        "Sections: " + ", ".join(f"[{e.name}](#{anchor(raw['title'])})"
                                 for e, raw in zip(typed, results["experiments"], strict=True)),
        "",
    ]  # fmt: skip
    lines += environment_lines(results["environment"])
    repeated = findings.repeat_findings(typed)
    if repeated:
        lines += ["## Run-to-run noise", "", *[f"- {f.text}" for f in repeated], ""]
    lines += overhead.report_lines(folder)  # `bench --sweep --out FOLDER` wrote its CSVs here
    lines += [COLUMNS_EXPLAINED, ""]
    for raw, experiment in zip(results["experiments"], typed, strict=True):
        lines += experiment_lines(
            raw, experiment, figures.get(experiment.name, []), notes.get(experiment.name, []),
            folder,
        )  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def anchor(title: str) -> str:
    """The GitHub heading anchor of a title."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def not_run_lines(results: dict[str, Any]) -> list[str]:
    """One line per framework × device × reason, however many variants it skipped."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for experiment in results["experiments"]:
        for run in experiment["runs"]:
            if run["status"] != "skipped":
                continue
            key = (run["framework"], run["device"], run["reason"] or "")
            seen.setdefault(key, run)
            counts[key] = counts.get(key, 0) + 1
    if not seen:
        return []
    lines = ["**Not run:**", ""]
    for key, run in seen.items():
        hint = ""
        if run["hint"]:
            extra = f"pip install 'packages/mlp-compare[{run['framework']}]'"
            hint = f" Install: `{run['hint']}` (or `{extra}`)."
        lines.append(
            f"- {NAMES[run['framework']]} on {run['device']}: {run['reason']}.{hint} "
            f"({counts[key]} run{'s' * (counts[key] > 1)})"
        )
    return [*lines, ""]


def environment_lines(env: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    threads = ", ".join(f"{k}={v}" for k, v in env["threads"].items() if v is not None)
    frameworks = "; ".join(
        f"{NAMES[name]} "
        + (f"on {', '.join(info['devices'])}" if info["available"] else "not installed")
        for name, info in env["frameworks"].items()
    )
    return [
        "## Environment",
        "",
        f"- CPU: {env['cpu_model']} ({env['cpu_count']} logical cores); "
        f"threads: {threads or 'defaults'}; GPU: {env['gpu'] or 'none detected'}",
        f"- Python {env['python']} on {env['platform']}; {frameworks}",
        f"- Packages: {versions}",
        "",
    ]


def experiment_lines(
    raw: dict[str, Any],
    experiment: ExperimentResult,
    figures: list[Path],
    notes: list[str],
    folder: Path,
) -> list[str]:
    sizes = raw["data_sizes"]
    lines = [
        f"## {raw['title']}",
        "",
        f"Experiment `{raw['name']}`, from {raw['source']}. "
        + " ".join(raw["description"].split()),
        "",
        f"Data: {sizes['train']:,} training and {sizes['test']:,} test images"
        + (f", {sizes['validation']:,} for validation" if sizes["validation"] else "")
        + f", pixels {raw['data']['scaling']}d.",
        "",
    ]
    published = raw["published"]
    if published["summary"]:
        lines += [
            f"Published ({published['source']}): {' '.join(published['summary'].split())}",
            "",
        ]
    lines += variant_lines(raw)
    lines += result_table(raw, experiment)
    lines += ["", "### Findings", ""]
    sentences = findings.experiment_findings(experiment)
    sentences += findings.against_published(experiment)
    lines += [f"- {f.text}" for f in sentences]
    lines += defaults_study.seed_table(raw)
    lines += defaults_study.report_lines(raw, experiment)
    splits = findings.loss_splits(experiment)
    if splits:
        lines += ["", *loss_split_table(splits)]
        summary = findings.loss_split_summary(splits)
        if summary:
            lines += ["", summary.text]
    if notes:
        lines += ["", *[f"> {note}" for note in notes]]
    if figures:
        lines += ["", "### Digits and plots", ""]
        lines += [f"![{p.stem}]({p.relative_to(folder).as_posix()})" for p in figures]
    return [*lines, ""]


def variant_lines(raw: dict[str, Any]) -> list[str]:
    lines = ["| variant | batch | loss | init | optimizer |", "|---|---:|---|---|---|"]
    for variant in raw["variants"]:
        batch, loss, optimizer = describe_training(raw, variant["name"])
        init = describe_init(raw, variant["name"])
        lines.append(f"| {variant['name']} | {batch} | {loss} | {init} | {optimizer} |")
    return [*lines, ""]


def result_table(raw: dict[str, Any], experiment: ExperimentResult) -> list[str]:
    lines = [
        "| variant | run | train acc | test acc | gap | training (s) | s/epoch | process CPU (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in experiment.runs:
        if run.status == "skipped":
            continue
        if not run.finished:
            lines.append(f"| {run.variant} | {run.label} | {run.outcome()} | | | | | |")
            continue
        gap = (run.train_accuracy or 0.0) - (run.test_accuracy or 0.0)
        lines.append(
            f"| {run.variant} | {run.label} | {pct(run.train_accuracy)} "
            f"| {pct(run.test_accuracy)} | {pct(gap)} | {run.seconds_training or 0.0:.2f} "
            f"| {findings.epoch_spread(run)} | {run.cpu_seconds or 0.0:.1f} |"
        )
    for item in raw["published"]["results"]:
        variant = item["variant"] or "—"
        when = f" (epoch {item['epoch']})" if item["epoch"] else ""
        lines.append(
            f"| {variant} | {NAMES.get(item['framework'], 'every framework')} (published){when} "
            f"| {pct(item['train_accuracy'])} | {pct(item['test_accuracy'])} | | | | |"
        )
    return lines


def loss_split_table(splits: list[findings.LossSplit]) -> list[str]:
    lines = [
        "How much of the NumPy-vs-framework gap is the framework (same loss) and how much the "
        "method (same framework, other loss), in test-accuracy points:",
        "",
        "| variant (loss A) | other loss (B) | framework | NumPy, A | framework, A "
        "| framework, B | framework part | method part |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in splits:
        lines.append(
            f"| {s.first} | {s.second} | {NAMES[s.framework]} | {pct(s.numpy_a)} "
            f"| {pct(s.framework_a)} | {pct(s.framework_b)} | {100 * s.framework_part:+.2f} "
            f"| {100 * s.method_part:+.2f} |"
        )
    return lines
