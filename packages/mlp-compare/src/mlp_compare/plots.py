"""The report's figures, drawn with matplotlib's Agg backend (no display needed).

One set per experiment, each written atomically as PNG:
    <experiment>-curves.png       loss and test accuracy per epoch, a row per variant,
                                  every framework × device overlaid
    <experiment>-time.png         training seconds per epoch of every run
    <experiment>-per-class.png    test accuracy per digit, a panel per variant
    <experiment>-confusion.png    the test confusion matrix of every run
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

from mlp_compare.results import write_bytes

COLORS = {"numpy": "tab:blue", "torch": "tab:orange", "tf": "tab:green"}
LINES = {"cpu": "-", "gpu": "--"}


def run_label(run: dict[str, Any]) -> str:
    return f"{run['framework']}/{run['device']}"


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
        written.append(epoch_times(trained, folder / f"{name}-time.png"))
    if finished:
        written.append(per_class(experiment, finished, folder / f"{name}-per-class.png"))
        written.append(confusions(finished, folder / f"{name}-confusion.png"))
    if experiment.get("equivalence"):
        written.append(equivalence(experiment["equivalence"], folder / f"{name}-equivalence.png"))
    return written


def _variants(experiment: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    present = {r["variant"] for r in runs}
    return [v["name"] for v in experiment["variants"] if v["name"] in present]


def curves(experiment: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> Path:
    variants = _variants(experiment, runs)
    figure, axes = plt.subplots(
        len(variants), 2, figsize=(11, 3.2 * len(variants)), squeeze=False, layout="constrained"
    )
    for row, variant in zip(axes, variants, strict=True):
        for run in (r for r in runs if r["variant"] == variant):
            epochs = [h["epoch"] for h in run["history"]]
            style = {"color": COLORS[run["framework"]], "linestyle": LINES[run["device"]]}
            if len(epochs) <= 30:  # short runs: show the points themselves
                style["marker"] = "o"
                style["markersize"] = 3
            row[0].plot(epochs, [h["loss"] for h in run["history"]], label=run_label(run), **style)
            tests = [h["test_accuracy"] for h in run["history"]]
            trains = [h["train_accuracy"] for h in run["history"]]
            row[1].plot(epochs, tests, label=f"{run_label(run)} test", **style)
            row[1].plot(epochs, trains, alpha=0.4, label=f"{run_label(run)} train", **style)
        row[0].set(title=f"{variant}: training loss", xlabel="epoch", ylabel="loss", yscale="log")
        row[1].set(title=f"{variant}: accuracy", xlabel="epoch", ylabel="accuracy")
        row[1].ticklabel_format(axis="y", useOffset=False)
        for ax in row:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    figure.suptitle(experiment["title"], fontsize=10)
    save(figure, path)
    return path


def epoch_times(runs: list[dict[str, Any]], path: Path) -> Path:
    labels = [f"{r['variant']}\n{run_label(r)}" for r in runs]
    seconds = [float(np.mean([h["seconds"] for h in r["history"]])) for r in runs]
    figure, ax = plt.subplots(figsize=(max(6, 0.7 * len(runs)), 4), layout="constrained")
    ax.bar(range(len(runs)), seconds, color=[COLORS[r["framework"]] for r in runs])
    ax.set_xticks(range(len(runs)), labels, rotation=60, ha="right", fontsize=7)
    ax.set(ylabel="seconds per epoch (training only)", title="Time per epoch")
    ax.grid(axis="y", alpha=0.3)
    save(figure, path)
    return path


def per_class(experiment: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> Path:
    variants = _variants(experiment, runs)
    columns = min(4, len(variants))
    rows = -(-len(variants) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False, layout="constrained"
    )
    for ax, variant in zip(axes.flat, variants, strict=False):
        group = [r for r in runs if r["variant"] == variant]
        width = 0.8 / len(group)
        for i, run in enumerate(group):
            values = [np.nan if v is None else v for v in run["metrics"]["per_class_accuracy"]]
            ax.bar(np.arange(len(values)) + i * width - 0.4 + width / 2, values, width,
                   color=COLORS[run["framework"]], label=run_label(run),
                   hatch="//" if run["device"] == "gpu" else None)  # fmt: skip
        ax.set(title=variant, xlabel="digit", ylabel="test accuracy", ylim=(0, 1.02))
        ax.set_xticks(range(10))
        ax.legend(fontsize=7, loc="lower left")
    for ax in list(axes.flat)[len(variants) :]:
        ax.axis("off")
    figure.suptitle("Test accuracy per digit", fontsize=10)
    save(figure, path)
    return path


def confusions(runs: list[dict[str, Any]], path: Path) -> Path:
    columns = min(4, len(runs))
    rows = -(-len(runs) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(3.3 * columns, 3.3 * rows), squeeze=False, layout="constrained"
    )
    for ax, run in zip(axes.flat, runs, strict=False):
        matrix = np.asarray(run["metrics"]["confusion_matrix"], dtype=float)
        shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"{run['variant']}\n{run_label(run)}", fontsize=8)
        ax.set(xlabel="predicted", ylabel="true")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(runs) :]:
        ax.axis("off")
    figure.suptitle("Test confusion matrices (row-normalized)", fontsize=10)
    save(figure, path)
    return path


def equivalence(result: dict[str, Any], path: Path) -> Path:
    figure, (weights, losses) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for curve in result["curves"]:
        label = f"{curve['framework']}/{curve['device']}"
        color = COLORS[curve["framework"]]
        steps = np.arange(1, len(curve["max_weight_diff"]) + 1)
        weights.plot(steps, _positive(curve["max_weight_diff"]), label=label, color=color)
        losses.plot(steps, _positive(curve["loss_diff"]), label=label, color=color)
    reference = result["reference"]
    weights.set(yscale="log", xlabel="step", title=f"largest |weight − {reference}|")
    losses.set(yscale="log", xlabel="step", title=f"|loss − {reference} loss|")
    for ax in (weights, losses):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(f"Equivalence, variant {result['variant']}, {result['dtype']}", fontsize=10)
    save(figure, path)
    return path


def _positive(values: list[float | None]) -> np.ndarray:
    """Zeros cannot sit on a log axis: exact agreement is drawn at 1e-18, below any rounding."""
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    return np.where(array == 0, 1e-18, array)
