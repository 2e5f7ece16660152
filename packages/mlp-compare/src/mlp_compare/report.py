"""report.md and results.csv, rendered from results.json alone (`mlp-compare report DIR`).

The findings are sentences computed from the numbers: how far the frameworks agree, how fast
each is, how the measurements compare with the published figures, and, where variants differ
only in their loss, how much of a published gap comes from the framework and how much from
the method.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from mlp_compare import plots
from mlp_compare.results import write_text

CSV_COLUMNS = (
    "experiment", "variant", "framework", "device", "backend_device", "status", "reason",
    "batch_size", "init", "loss", "optimizer", "epochs", "final_train_accuracy",
    "final_test_accuracy", "best_test_accuracy", "generalization_gap", "final_loss",
    "seconds_training", "cpu_seconds", "seconds_per_epoch", "steps_per_second", "parameters",
)  # fmt: skip
NAMES = {"numpy": "NumPy", "torch": "PyTorch", "tf": "TensorFlow"}
AGREEMENT = 0.003  # test-accuracy spread (a fraction) that rounding alone can explain


def span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}–{high:.2f}"


def pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def points(value: float) -> str:
    return f"{100 * value:+.2f} points"


def render(folder: Path, results: dict[str, Any]) -> list[Path]:
    """Write results.csv, the plots and report.md into `folder`; return the files written."""
    written = [folder / "results.csv"]
    write_text(written[0], table_csv(results))
    figures: dict[str, list[Path]] = {}
    for experiment in results["experiments"]:
        figures[experiment["name"]] = plots.experiment_plots(experiment, folder / "plots")
        written += figures[experiment["name"]]
    write_text(folder / "report.md", report_markdown(results, figures, folder))
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
            spec = variant_spec(experiment, run["variant"])["spec"]
            row.update(
                experiment=experiment["name"],
                batch_size=batch,
                init=describe_init(experiment, run["variant"]),
                loss=loss,
                optimizer=optimizer,
                epochs=metrics.get("epochs", spec["training"]["epochs"]),
            )
            writer.writerow(row)
    return buffer.getvalue()


def report_markdown(results: dict[str, Any], figures: dict[str, list[Path]], folder: Path) -> str:
    env = results["environment"]
    lines = [
        f"# mlp-compare report: {results['run_id']}",
        "",
        f"`{results['command']}` — started {results['started']}, "
        f"finished {results['finished'] or '—'}, status **{results['status']}**.",
        "",
    ]
    if results["status"] == "interrupted":
        lines += ["> The run was interrupted: this report holds the runs that finished.", ""]
    lines += summary_lines(results)
    lines += environment_lines(env)
    for experiment in results["experiments"]:
        lines += experiment_lines(experiment, figures.get(experiment["name"], []), folder)
    return "\n".join(lines).rstrip() + "\n"


def summary_lines(results: dict[str, Any]) -> list[str]:
    """One row per experiment and variant: test accuracy and seconds per epoch of every run."""
    columns = list(
        dict.fromkeys(
            (r["framework"], r["device"])
            for e in results["experiments"]
            for r in e["runs"]
            if r["metrics"] is not None
        )
    )
    if not columns:
        return []
    header = " | ".join(f"{NAMES[f]} {d}" for f, d in columns)
    lines = [
        "## Summary",
        "",
        "Test accuracy (seconds per training epoch) of every run.",
        "",
        f"| experiment | variant | {header} |",
        "|---|---|" + "---:|" * len(columns),
    ]
    for experiment in results["experiments"]:
        for variant in experiment["variants"]:
            runs = {
                (r["framework"], r["device"]): r["metrics"]
                for r in experiment["runs"]
                if r["variant"] == variant["name"] and r["metrics"] is not None
            }
            if not runs:
                continue
            cells = [
                f"{pct(runs[c]['final_test_accuracy'])} ({runs[c]['seconds_per_epoch']:.2f})"
                if c in runs
                else "—"
                for c in columns
            ]
            lines.append(f"| {experiment['name']} | {variant['name']} | {' | '.join(cells)} |")
    return [*lines, ""]


def environment_lines(env: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    threads = ", ".join(f"{k}={v}" for k, v in env["threads"].items() if v is not None)
    lines = [
        "## Environment",
        "",
        f"- CPU: {env['cpu_model']} ({env['cpu_count']} logical cores); "
        f"threads: {threads or 'defaults'}",
        f"- GPU: {env['gpu'] or 'none detected'}",
        f"- Python {env['python']} on {env['platform']}",
        f"- Packages: {versions}",
    ]
    for name, info in env["frameworks"].items():
        state = (
            f"devices {', '.join(info['devices'])}"
            if info["available"]
            else f"not installed ({info['error']})"
        )
        lines.append(f"- {NAMES[name]}: {state}")
    return [*lines, ""]


def experiment_lines(experiment: dict[str, Any], figures: list[Path], folder: Path) -> list[str]:
    sizes = experiment["data_sizes"]
    lines = [
        f"## {experiment['title']}",
        "",
        f"Experiment `{experiment['name']}`, from {experiment['source']}. "
        + " ".join(experiment["description"].split()),
        "",
        f"Data: {sizes['train']:,} training and {sizes['test']:,} test images"
        + (f", {sizes['validation']:,} for validation" if sizes["validation"] else "")
        + f", pixels {experiment['data']['scaling']}d.",
        "",
    ]
    published = experiment["published"]
    if published["summary"]:
        summary = " ".join(published["summary"].split())
        lines += [f"Published ({published['source']}): {summary}", ""]
    lines += result_table(experiment)
    lines += ["", "### Findings", ""]
    lines += [f"- {sentence}" for sentence in findings(experiment)]
    skipped = [r for r in experiment["runs"] if r["status"] == "skipped"]
    if skipped:
        lines += ["", "### Not run", ""]
        for run in skipped:
            hint = ""
            if run["hint"]:
                extra = f"pip install 'packages/mlp-compare[{run['framework']}]'"
                hint = f" Install: `{run['hint']}` (or `{extra}`)."
            lines.append(
                f"- {NAMES[run['framework']]} on {run['device']} ({run['variant']}): "
                f"{run['reason']}.{hint}"
            )
    if figures:
        lines += ["", "### Plots", ""]
        lines += [f"![{p.stem}]({p.relative_to(folder).as_posix()})" for p in figures]
    return [*lines, ""]


def result_table(experiment: dict[str, Any]) -> list[str]:
    lines = [
        "| variant | framework | device | batch | loss | init "
        "| train acc | test acc | gap | time (s) | CPU (s) | s/epoch |",
        "|---|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in experiment["runs"]:
        if run["status"] == "skipped":
            continue
        batch, loss, _ = describe_training(experiment, run["variant"])
        metrics = run["metrics"]
        name = NAMES[run["framework"]]
        init = describe_init(experiment, run["variant"])
        if metrics is None:
            lines.append(
                f"| {run['variant']} | {name} | {run['device']} | {batch} | {loss} | {init} "
                f"| {run['status']}: {run['reason']} | | | | | |"
            )
            continue
        lines.append(
            f"| {run['variant']} | {name} | {run['device']} | {batch} | {loss} | {init} "
            f"| {pct(metrics['final_train_accuracy'])} | {pct(metrics['final_test_accuracy'])} "
            f"| {pct(metrics['generalization_gap'])} | {metrics['seconds_training']:.1f} "
            f"| {metrics['cpu_seconds']:.1f} "
            f"| {metrics['seconds_per_epoch']:.3f} |"
        )
    for item in experiment["published"]["results"]:
        variant = item["variant"] or "—"
        when = f" (epoch {item['epoch']})" if item["epoch"] else ""
        lines.append(
            f"| {variant} | {NAMES.get(item['framework'], 'every framework')} (published){when} "
            f"| | | | | {pct(item['train_accuracy'])} | {pct(item['test_accuracy'])} | | | | |"
        )
    return lines


def _ok(experiment: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in experiment["runs"] if r["metrics"] is not None]


def _test(run: dict[str, Any]) -> float:
    return run["metrics"]["final_test_accuracy"]


def _test_at(run: dict[str, Any], epoch: int | None) -> float:
    """Test accuracy after `epoch` (1-based) from the history, or the final one."""
    history = run["history"]
    if epoch and epoch <= len(history) and history[epoch - 1]["test_accuracy"] is not None:
        return history[epoch - 1]["test_accuracy"]
    return _test(run)


def findings(experiment: dict[str, Any]) -> list[str]:
    """Sentences about this experiment, each computed from its runs."""
    runs = _ok(experiment)
    if not runs:
        return ["No training run finished, so there is nothing to compare yet."]
    sentences = agreement(experiment, runs) + speed(experiment, runs)
    sentences += against_published(experiment, runs) + loss_pairs(experiment, runs)
    sentences += equivalence_summary(experiment)
    best = max(runs, key=_test)
    sentences.append(
        f"Best test accuracy: {pct(_test(best))} ({best['variant']}, {NAMES[best['framework']]} "
        f"on {best['device']}, {best['metrics']['seconds_training']:.1f} s of training)."
    )
    failed = [r for r in experiment["runs"] if r["status"] in ("failed", "diverged", "interrupted")]
    sentences += [
        f"{NAMES[r['framework']]} on {r['device']} ({r['variant']}) {r['status']}: {r['reason']}"
        for r in failed
    ]
    return sentences


def agreement(experiment: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    """How far the frameworks' test accuracies lie apart within each variant."""
    spreads = []
    for variant in dict.fromkeys(r["variant"] for r in runs):
        group = [r for r in runs if r["variant"] == variant]
        if len(group) > 1:
            low, high = min(group, key=_test), max(group, key=_test)
            spreads.append((_test(high) - _test(low), variant, low, high, len(group)))
    if not spreads:
        return []
    close = [s for s in spreads if s[0] <= AGREEMENT]
    sentences = []
    if close:
        largest = max(close, key=lambda s: s[0])
        sentences.append(
            f"In {len(close)} of {len(spreads)} variants every framework × device run reaches "
            f"the same test accuracy to within {100 * AGREEMENT:.1f} points (largest spread "
            f"{100 * largest[0]:.2f} points, {largest[1]}): the frameworks compute the same "
            "network, and what differs is rounding on a few borderline images."
        )
    for spread, variant, low, high, count in spreads:
        if spread > AGREEMENT:
            sentences.append(
                f"{variant}: test accuracy spreads over {100 * spread:.2f} points across "
                f"{count} runs ({pct(_test(low))} {low['framework']}/{low['device']} to "
                f"{pct(_test(high))} {high['framework']}/{high['device']}), more than rounding "
                "alone explains at the first steps: float32 differences grow over a long run "
                "(see the equivalence curve)."
            )
    return sentences


def speed(experiment: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    sentences = []
    for variant in dict.fromkeys(r["variant"] for r in runs):
        group = {(r["framework"], r["device"]): r for r in runs if r["variant"] == variant}
        reference = group.get(("numpy", "cpu"))
        if reference is None or len(group) < 2:
            continue
        base = reference["metrics"]["seconds_per_epoch"]
        ratios = [
            f"{NAMES[f]}/{d} {r['metrics']['seconds_per_epoch'] / base:.2f}× as long"
            for (f, d), r in group.items()
            if (f, d) != ("numpy", "cpu")
        ]
        sentences.append(f"{variant}: NumPy trains an epoch in {base:.3f} s; {', '.join(ratios)}.")
    return sentences + warm_up(runs)


def warm_up(runs: list[dict[str, Any]]) -> list[str]:
    """Frameworks whose first epoch is much slower than the rest: tracing, compiling, allocating."""
    slow: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for run in runs:
        seconds = [h["seconds"] for h in run["history"]]
        if len(seconds) < 3:
            continue
        later = sorted(seconds[1:])[len(seconds[1:]) // 2]  # the median of the later epochs
        if seconds[0] > 3 * later and seconds[0] - later > 0.5:
            slow.setdefault((run["framework"], run["device"]), []).append((seconds[0], later))
    sentences = []
    for (framework, device), cases in slow.items():
        firsts = [first for first, _ in cases]
        laters = [later for _, later in cases]
        sentences.append(
            f"{NAMES[framework]}/{device}: in {len(cases)} run(s) the first epoch took "
            f"{span(firsts)} s against {span(laters)} s "
            "for a typical later one: one-time set-up (tracing, compiling, allocating) that "
            "the time per epoch includes."
        )
    return sentences


def against_published(experiment: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    sentences = []
    for item in experiment["published"]["results"]:
        matches = [
            r
            for r in runs
            if item["framework"] in (r["framework"], "all")
            and (item["variant"] is None or r["variant"] == item["variant"])
        ]
        if not matches or item["test_accuracy"] is None:
            continue
        run = matches[0]
        epoch = item["epoch"]
        measured = _test_at(run, epoch)
        reached = epoch is not None and epoch <= len(run["history"])
        when = f"after epoch {epoch}" if reached else "at the end"
        others = [
            f"{NAMES[r['framework']]} {pct(_test_at(r, epoch))}"
            for r in runs
            if r["variant"] == run["variant"] and r is not run and r["device"] == "cpu"
        ]
        note = f" ({item['note']})" if item["note"] else ""
        also = f" (same variant, same epoch: {', '.join(others)})" if others else ""
        sentences.append(
            f"Published {NAMES.get(item['framework'], 'for every framework')} "
            f"{pct(item['test_accuracy'])}{note}; measured {NAMES[run['framework']]} "
            f"{pct(measured)} {when} ({run['variant']}, {run['device']}): "
            f"{points(measured - item['test_accuracy'])}{also}."
        )
    return sentences


def loss_pairs(experiment: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    """Split the NumPy-vs-other gap into framework (same loss) and method (same framework)."""
    variants = {v["name"]: v for v in experiment["variants"]}
    by_key = {(r["variant"], r["framework"]): r for r in runs if r["device"] == "cpu"}
    parts: list[tuple[str, float, float]] = []
    names = list(variants)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = variants[first], variants[second]
            same_rest = {k: v for k, v in a["set"].items() if k != "loss"} == {
                k: v for k, v in b["set"].items() if k != "loss"
            }
            if not same_rest or a["init_from"] != b["init_from"]:
                continue
            if a["spec"]["loss"] == b["spec"]["loss"]:
                continue
            parts += _decompose(first, second, by_key, variants)
    if not parts:
        return []
    framework_mean = sum(abs(p[1]) for p in parts) / len(parts)
    method_mean = sum(abs(p[2]) for p in parts) / len(parts)
    summary = (
        f"Over these {len(parts)} comparisons the framework moves test accuracy by "
        f"{100 * framework_mean:.2f} points on average and the method (the loss) by "
        f"{100 * method_mean:.2f} points: the gap is "
        + ("mostly the method." if method_mean > framework_mean else "mostly the framework.")
    )
    return [p[0] for p in parts] + [summary]


def _decompose(
    first: str, second: str, by_key: dict[tuple[str, str], dict[str, Any]], variants: dict
) -> list[tuple[str, float, float]]:
    """(sentence, framework part, method part) for each framework beside NumPy."""
    parts: list[tuple[str, float, float]] = []
    numpy_run = by_key.get((first, "numpy"))
    if numpy_run is None:
        return parts
    loss_a = variants[first]["spec"]["loss"]["name"]
    loss_b = variants[second]["spec"]["loss"]["name"]
    for framework in ("torch", "tf"):
        same_loss = by_key.get((first, framework))
        other = by_key.get((second, framework))
        if same_loss is None or other is None:
            continue
        total = _test(numpy_run) - _test(other)
        framework_part = _test(numpy_run) - _test(same_loss)
        method_part = _test(same_loss) - _test(other)
        sentence = (
            f"{first} vs {second}: NumPy with {loss_a} reaches {pct(_test(numpy_run))}, "
            f"{NAMES[framework]} with {loss_b} {pct(_test(other))} — a gap of {points(total)}. "
            f"Same loss, other framework ({NAMES[framework]} with {loss_a}, "
            f"{pct(_test(same_loss))}): {points(framework_part)} is the framework. "
            f"Same framework, other loss: {points(method_part)} is the method."
        )
        parts.append((sentence, framework_part, method_part))
    return parts


def equivalence_summary(experiment: dict[str, Any]) -> list[str]:
    result = experiment.get("equivalence")
    if not result:
        return []
    parts = []
    for curve in result["curves"]:
        weights = [v for v in curve["max_weight_diff"] if v is not None]
        losses = [v for v in curve["loss_diff"] if v is not None]
        if weights:
            parts.append(
                f"{NAMES[curve['framework']]}/{curve['device']}: largest weight difference "
                f"{max(weights):.1e}, largest loss difference {max(losses):.1e}"
            )
    if not parts:
        return []
    return [
        f"Equivalence ({result['variant']}, {result['dtype']}, {result['steps']} steps "
        f"from the same weights and batches, against {result['reference']}): "
        + "; ".join(parts)
        + "."
    ]
