"""The report's figures, drawn with matplotlib's Agg backend (no display needed).

One set per experiment, each written atomically as PNG:
    <experiment>-curves.png       loss and accuracy per epoch, a row per variant; frameworks
                                  overlaid with their own line style and marker, so that
                                  curves that coincide stay visible
    <experiment>-time.png         median seconds per training epoch, grouped by variant, with
                                  the fastest–slowest epoch as a whisker
    <experiment>-per-class.png    test error rate per digit, a panel per variant
    <experiment>-confusion.png    the errors of each variant's most accurate run: the
                                  confusion matrix without its diagonal, counts written in
    <experiment>-equivalence.png  per-step weight and loss difference from the reference
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mlp_compare.findings import ROUNDING
from mlp_compare.results import write_bytes
from mlp_compare.typed_results import NAMES

COLORS = {"numpy": "tab:blue", "torch": "tab:orange", "tf": "tab:green", "jax": "tab:red"}
LINES = {"numpy": "-", "torch": "--", "tf": ":", "jax": "-."}
MARKERS = {"numpy": "o", "torch": "s", "tf": "^", "jax": "D"}


def run_label(run: dict[str, Any]) -> str:
    return f"{NAMES[run['framework']]}/{run['device']}"


def style(framework: str, device: str, points: int) -> dict[str, Any]:
    """Colour, line style and marker of one framework; GPU runs drawn hollow."""
    return {
        "color": COLORS[framework],
        "linestyle": LINES[framework],
        "marker": MARKERS[framework],
        "markevery": max(1, points // 12),
        "markersize": 5,
        "markerfacecolor": "none" if device == "gpu" else COLORS[framework],
        "linewidth": 1.6,
    }


def save(figure: Figure, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    write_bytes(path, buffer.getvalue())


def experiment_plots(experiment: dict[str, Any], folder: Path) -> list[Path]:
    """Draw every figure the experiment's results allow; return the files written."""
    name = experiment["name"]
    trained = [r for r in experiment["runs"] if r["history"]]
    finished = [r for r in experiment["runs"] if r["metrics"]]
    written = []
    if trained:
        written.append(curves(experiment, trained, folder / f"{name}-curves.png"))
        written.append(epoch_times(experiment, trained, folder / f"{name}-time.png"))
    if finished:
        written.append(per_class(experiment, finished, folder / f"{name}-per-class.png"))
        written.append(confusions(experiment, finished, folder / f"{name}-confusion.png"))
    if experiment.get("equivalence"):
        written.append(equivalence(experiment["equivalence"], folder / f"{name}-equivalence.png"))
    return written


def _variants(experiment: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    present = {r["variant"] for r in runs}
    return [v["name"] for v in experiment["variants"] if v["name"] in present]


def curves(experiment: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> Path:
    variants = _variants(experiment, runs)
    figure, axes = plt.subplots(
        len(variants), 2, figsize=(11, 3.0 * len(variants)), squeeze=False, layout="constrained"
    )
    for row, variant in zip(axes, variants, strict=True):
        for run in (r for r in runs if r["variant"] == variant):
            epochs = [h["epoch"] for h in run["history"]]
            look = style(run["framework"], run["device"], len(epochs))
            losses = [np.nan if h["loss"] is None else h["loss"] for h in run["history"]]
            row[0].plot(epochs, losses, label=run_label(run), **look)
            tests = [
                np.nan if h["test_accuracy"] is None else h["test_accuracy"] for h in run["history"]
            ]
            trains = [
                np.nan if h["train_accuracy"] is None else h["train_accuracy"]
                for h in run["history"]
            ]
            row[1].plot(epochs, tests, label=run_label(run), **look)
            row[1].plot(epochs, trains, alpha=0.35, **{**look, "marker": None})
        row[0].set(title=f"{variant}: training loss", xlabel="epoch", ylabel="loss", yscale="log")
        row[1].set(
            title=f"{variant}: test accuracy (faint: train)", xlabel="epoch", ylabel="accuracy"
        )
        row[1].ticklabel_format(axis="y", useOffset=False)
        for ax in row:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        row[1].legend(fontsize=7)
    figure.suptitle(experiment["title"], fontsize=10)
    save(figure, path)
    return path


def epoch_times(experiment: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> Path:
    """Median epoch time per variant, one bar per framework × device, whisker = min–max."""
    variants = _variants(experiment, runs)
    targets = list(dict.fromkeys((r["framework"], r["device"]) for r in runs))
    width = 0.8 / len(targets)
    figure, ax = plt.subplots(
        figsize=(max(5.5, 1.1 * len(variants) + 2), 3.6), layout="constrained"
    )
    for i, (framework, device) in enumerate(targets):
        medians, low, high, where = [], [], [], []
        for j, variant in enumerate(variants):
            run = next(
                (
                    r
                    for r in runs
                    if r["variant"] == variant
                    and (r["framework"], r["device"]) == (framework, device)
                ),
                None,
            )
            if run is None:
                continue
            seconds = np.array([h["seconds"] for h in run["history"]])
            median = float(np.median(seconds))
            medians.append(median)
            low.append(median - seconds.min())
            high.append(seconds.max() - median)
            where.append(j + (i - (len(targets) - 1) / 2) * width)
        ax.bar(where, medians, width, yerr=[low, high], capsize=2, color=COLORS[framework],
               hatch="//" if device == "gpu" else None, label=f"{NAMES[framework]}/{device}",
               error_kw={"linewidth": 0.8})  # fmt: skip
    ax.set_xticks(range(len(variants)), variants, rotation=30 if len(variants) > 4 else 0,
                  ha="right" if len(variants) > 4 else "center", fontsize=8)  # fmt: skip
    ax.set(ylabel="seconds per epoch (training only)",
           title="Median time per epoch (whiskers: fastest and slowest epoch)")  # fmt: skip
    if max((h["seconds"] for r in runs for h in r["history"]), default=1) > 20 * min(
        (h["seconds"] for r in runs for h in r["history"] if h["seconds"] > 0), default=1
    ):
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    save(figure, path)
    return path


def per_class(experiment: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> Path:
    """Test error rate per digit (1 − per-class accuracy), so that differences show."""
    variants = _variants(experiment, runs)
    columns = min(3, len(variants))
    rows = -(-len(variants) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.0 * rows), squeeze=False, layout="constrained"
    )
    for ax, variant in zip(axes.flat, variants, strict=False):
        group = [r for r in runs if r["variant"] == variant]
        width = 0.8 / len(group)
        for i, run in enumerate(group):
            errors = [
                np.nan if v is None else 100 * (1 - v) for v in run["metrics"]["per_class_accuracy"]
            ]
            ax.bar(np.arange(len(errors)) + i * width - 0.4 + width / 2, errors, width,
                   color=COLORS[run["framework"]], label=run_label(run),
                   hatch="//" if run["device"] == "gpu" else None)  # fmt: skip
        ax.set(title=variant, xlabel="digit", ylabel="test error (%)")
        ax.set_xticks(range(10))
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(variants) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    figure.suptitle("Test error rate per digit (lower is better)", fontsize=10)
    save(figure, path)
    return path


def confusions(experiment: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> Path:
    """Each variant's most accurate run: its errors, true digit × predicted digit."""
    variants = _variants(experiment, runs)
    best = [
        max(
            (r for r in runs if r["variant"] == v),
            key=lambda r: r["metrics"]["final_test_accuracy"],
        )
        for v in variants
    ]
    columns = min(3, len(best))
    rows = -(-len(best) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 4.0 * rows), squeeze=False, layout="constrained"
    )
    for ax, run in zip(axes.flat, best, strict=False):
        matrix = np.asarray(run["metrics"]["confusion_matrix"], dtype=float)
        errors = matrix.copy()
        np.fill_diagonal(errors, np.nan)
        top = np.nanmax(errors) if np.isfinite(errors).any() else 1.0
        ax.imshow(errors, cmap="Reds", vmin=0, vmax=max(top, 1.0))
        for (i, j), value in np.ndenumerate(errors):
            if np.isfinite(value) and value > 0:
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=6,
                        color="white" if value > 0.6 * top else "black")  # fmt: skip
        total = int(np.nansum(errors))
        ax.set_title(f"{run['variant']}, {run_label(run)}: {total} errors", fontsize=8)
        ax.set(xlabel="predicted", ylabel="true")
        ax.set_xticks(range(len(matrix)))
        ax.set_yticks(range(len(matrix)))
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(best) :]:
        ax.axis("off")
    figure.suptitle("Test errors (confusion matrix without its diagonal)", fontsize=10)
    save(figure, path)
    return path


def equivalence(result: dict[str, Any], path: Path) -> Path:
    figure, (weights, losses) = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    for curve in result["curves"]:
        label = f"{NAMES[curve['framework']]}/{curve['device']}"
        steps = np.arange(1, len(curve["max_weight_diff"]) + 1)
        look = style(curve["framework"], curve["device"], len(steps))
        weights.plot(steps, _positive(curve["max_weight_diff"]), label=label, **look)
        losses.plot(steps, _positive(curve["loss_diff"]), label=label, **look)
    bound = ROUNDING.get(result["dtype"])
    if bound:
        weights.axhline(bound, color="gray", linewidth=0.8, linestyle="-.",
                        label=f"rounding bound {bound:.0e}")  # fmt: skip
    reference = result["reference"]
    weights.set(yscale="log", xlabel="step", title=f"largest |weight − {reference}|")
    losses.set(yscale="log", xlabel="step", title=f"|loss − {reference} loss|")
    for ax in (weights, losses):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(f"Equivalence, variant {result['variant']}, {result['dtype']}", fontsize=10)
    save(figure, path)
    return path


def _positive(values: list[float | None]) -> np.ndarray:
    """Zeros cannot sit on a log axis: exact agreement is drawn at 1e-18, below any rounding."""
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    return np.where(array == 0, 1e-18, array)
