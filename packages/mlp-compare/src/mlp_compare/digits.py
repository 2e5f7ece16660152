"""The digits behind the numbers: misclassified test images, first-layer weights, disagreements.

For each experiment, drawn with matplotlib's Agg backend and written atomically as PNG:
    <experiment>-misclassified.png  test images the best run gets wrong, "true → predicted"
    <experiment>-weights.png        the best run's first-layer weights, one 28 × 28 tile per
                                    hidden unit (red positive, blue negative, 0 white)
    <experiment>-disagreements.png  test images on which the finished runs of the best run's
                                    variant predict different digits, with each one's guess

The predictions come from results.json (`test_predictions`, schema version 2), the weights
from the run folder's `weights/<experiment>.safetensors` (the shared format), the images from
MNIST through the experiment's [data] section. What an older run folder lacks is named in a
note instead of a figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlp_compare import plots
from mlp_compare.results import decode_predictions
from mlp_compare.typed_results import NAMES, ExperimentResult, Run

GALLERY = 40  # images per gallery
TILES = 64  # first-layer units shown
SIDE = 28
INITIALS = {"numpy": "N", "torch": "P", "tf": "T", "jax": "J"}


def best_run(experiment: ExperimentResult) -> Run | None:
    finished = experiment.finished
    return max(finished, key=lambda r: r.test_accuracy or 0.0) if finished else None


def test_images(raw: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The experiment's test images (N, 784), scaled as in training, and their labels."""
    from mlp_compare.data import prepare
    from mlp_compare.experiment import DataSpec

    return prepare(DataSpec(**raw["data"])).test


def experiment_digits(
    raw: dict[str, Any], experiment: ExperimentResult, folder: Path
) -> tuple[list[Path], list[str]]:
    """Draw what the run folder allows; return the files and notes on what it lacks."""
    best = best_run(experiment)
    if best is None:
        return [], []
    written: list[Path] = []
    notes: list[str] = []
    weights = experiment.best_weights
    if weights and (folder / weights["path"]).is_file():
        path = folder / "plots" / f"{experiment.name}-weights.png"
        if first_layer(folder / weights["path"], weights, path):
            written.append(path)
    else:
        notes.append(
            "No saved weights in this run folder (runs recorded before results schema 2 keep "
            "none): the first layer's tiles need a fresh `mlp-compare run`."
        )
    if best.predictions is None:
        notes.append(
            "No test predictions in this results.json (recorded since results schema 2): the "
            "galleries of misclassified digits and of disagreements need a fresh run."
        )
        return written, notes
    try:
        x, labels = test_images(raw)
    except Exception as exc:  # MNIST missing or unreadable where the report is rendered
        notes.append(f"The test images could not be loaded ({exc}): no digit galleries.")
        return written, notes
    predicted = decode_predictions(best.predictions)
    path = folder / "plots" / f"{experiment.name}-misclassified.png"
    misclassified(x, labels, predicted, best, path)
    written.insert(0, path)
    peers = [
        r for r in experiment.runs_of(best.variant) if r.finished and r.predictions is not None
    ]
    if len(peers) > 1:
        guesses = np.stack([decode_predictions(r.predictions or "") for r in peers])
        differ = np.flatnonzero((guesses != guesses[0]).any(axis=0))
        notes.append(
            f"In {best.variant}, the {len(peers)} finished runs predict different digits for "
            f"{len(differ)} of {len(labels):,} test images"
            + (" (shown below)." if len(differ) else ".")
        )
        if len(differ):
            path = folder / "plots" / f"{experiment.name}-disagreements.png"
            disagreements(x, labels, guesses, peers, differ, path)
            written.insert(1, path)
    return written, notes


def _grid(count: int, columns: int = 10, row_height: float = 1.3) -> tuple[Any, np.ndarray]:
    """A figure of `count` image panels; `row_height` leaves room for each panel's title."""
    import matplotlib.pyplot as plt

    rows = max(1, -(-count // columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.1 * columns, row_height * rows + 0.4), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    return figure, axes


def misclassified(
    x: np.ndarray, labels: np.ndarray, predicted: np.ndarray, run: Run, path: Path
) -> Path:
    wrong = np.flatnonzero(predicted != labels)[:GALLERY]
    figure, axes = _grid(len(wrong))
    for ax, index in zip(axes.flat, wrong, strict=False):
        ax.imshow(x[index].reshape(SIDE, SIDE), cmap="gray_r")
        ax.set_title(f"{labels[index]} → {predicted[index]}", fontsize=9, color="tab:red")
    total = int((predicted != labels).sum())
    figure.suptitle(
        f"{run.variant}, {run.label}: {total} of {len(labels):,} test images misclassified "
        f"(first {len(wrong)}; true → predicted)",
        fontsize=10,
    )
    plots.save(figure, path)
    return path


def disagreements(
    x: np.ndarray,
    labels: np.ndarray,
    guesses: np.ndarray,
    runs: list[Run],
    differ: np.ndarray,
    path: Path,
) -> Path:
    shown = differ[:GALLERY]
    figure, axes = _grid(len(shown))
    for ax, index in zip(axes.flat, shown, strict=False):
        ax.imshow(x[index].reshape(SIDE, SIDE), cmap="gray_r")
        guess = " ".join(
            f"{INITIALS[r.framework]}{'g' if r.device == 'gpu' else ''}{guesses[i, index]}"
            for i, r in enumerate(runs)
        )
        ax.set_title(f"true {labels[index]}\n{guess}", fontsize=8)
    legend = ", ".join(f"{INITIALS[r.framework]} = {r.label}" for r in runs)
    legend += "; g = on the GPU" if any(r.device == "gpu" for r in runs) else ""
    figure.suptitle(
        f"{runs[0].variant}: {len(differ)} test images with different predictions "
        f"(first {len(shown)}; {legend})",
        fontsize=9,
    )
    plots.save(figure, path)
    return path


def first_layer(weights_file: Path, about: dict[str, str], path: Path) -> bool:
    """Tiles of the first layer's rows; False when the network's input is not 28 × 28."""
    import mlp_numpy

    weight = np.asarray(mlp_numpy.load(weights_file).layers()[0].weight, dtype=np.float64)
    if weight.shape[1] != SIDE * SIDE:
        return False
    units = weight[:TILES]
    figure, axes = _grid(len(units), columns=16, row_height=1.1)
    figure.subplots_adjust(wspace=0.05, hspace=0.05)
    for ax, row in zip(axes.flat, units, strict=False):
        limit = float(np.abs(row).max()) or 1.0
        ax.imshow(row.reshape(SIDE, SIDE), cmap="RdBu_r", vmin=-limit, vmax=limit)
    figure.suptitle(
        f"First-layer weights of {about['variant']}, {NAMES[about['framework']]}/"
        f"{about['device']} "
        f"(the most accurate run): {len(units)} of {len(weight)} hidden units, each as 28 × 28 "
        "input weights (red +, blue −)",
        fontsize=9,
    )
    plots.save(figure, path)
    return True
