"""Evaluation: what a network predicts from its outputs, and how right it is.

A classifier's prediction for a sample is the class of its largest output (ties go to the
lowest class index, as `argmax`); a binary classifier's, with its one sigmoid output
a = P(class 1), is 1 where a > 0.5; a regression network's is its outputs themselves.
Classifiers are scored by accuracy, regression networks by the mean squared error and R²:

    accuracy  the share of samples predicted as their label
    MSE       (1/NK) Σ_nk (a_nk − y_nk)²
    R²        the mean over the K outputs of 1 − Σ_n (a_nk − y_nk)² / Σ_n (y_nk − ȳ_k)²
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINARY_THRESHOLD = 0.5  # a binary classifier predicts 1 where its output exceeds this


def predicted(outputs: np.ndarray, task: str) -> np.ndarray:
    """What a network with these (N, K) outputs predicts for its `task`: class indices
    (int64, (N,)) for "classification" and "binary"; for "regression" the outputs, as
    (N,) when there is one output and (N, K) otherwise."""
    outputs = np.asarray(outputs)
    if outputs.ndim != 2:
        raise ValueError(f"outputs: expected shape (N, K), got {outputs.shape}")
    if task == "regression":
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs
    if task == "binary":
        return (outputs[:, 0] > BINARY_THRESHOLD).astype(np.int64)
    return outputs.argmax(axis=1)


def _predictions(proba: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The predicted and the true class of each sample; a single output column is a
    binary classifier's P(class 1)."""
    proba, labels = np.asarray(proba), np.asarray(labels)
    if proba.ndim != 2 or labels.shape != (len(proba),):
        raise ValueError(f"proba {proba.shape} and labels {labels.shape} do not match")
    task = "binary" if proba.shape[1] == 1 else "classification"
    return predicted(proba, task), labels.astype(np.int64)


def accuracy(proba: np.ndarray, labels: np.ndarray) -> float:
    """The share of rows predicted as their label: the largest output's class, or for one
    output column (a binary classifier), 1 where it exceeds 0.5."""
    predicted_classes, labels = _predictions(proba, labels)
    return float((predicted_classes == labels).mean())


def confusion_matrix(proba: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class (K = 2 for one output)."""
    predicted_classes, labels = _predictions(proba, labels)
    k = max(np.shape(proba)[1], 2)
    return np.bincount(labels * k + predicted_classes, minlength=k * k).reshape(k, k)


def per_class_accuracy(proba: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(K,) accuracy within each true class; NaN for a class with no samples."""
    confusion = confusion_matrix(proba, labels)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diagonal(confusion) / totals


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    per_class: np.ndarray
    confusion: np.ndarray


def evaluate(proba: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Accuracy, per-class accuracy and confusion matrix of the outputs `proba`."""
    return Evaluation(
        accuracy(proba, labels), per_class_accuracy(proba, labels), confusion_matrix(proba, labels)
    )


def _columns(outputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and targets as float64 (N, K) arrays of the same shape; (N,) targets are
    one column."""
    outputs = np.asarray(outputs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim == 1:
        targets = targets[:, None]
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.shape != targets.shape or not len(outputs):
        raise ValueError(f"outputs {outputs.shape} and targets {targets.shape} do not match")
    return outputs, targets


def mean_squared_error(outputs: np.ndarray, targets: np.ndarray) -> float:
    """(1/NK) Σ (a − y)², over every output of every sample."""
    outputs, targets = _columns(outputs, targets)
    return float(np.mean((outputs - targets) ** 2))


def r2_score(outputs: np.ndarray, targets: np.ndarray) -> float:
    """R², the share of the targets' variance the outputs explain, averaged over the
    outputs: 1 is a perfect fit, 0 is no better than predicting each output's mean.

    An output whose targets are all equal has no variance to explain: it scores 1 when
    predicted exactly and 0 otherwise (as scikit-learn's `r2_score`)."""
    outputs, targets = _columns(outputs, targets)
    residual = ((targets - outputs) ** 2).sum(axis=0)
    total = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(total > 0, 1 - residual / total, np.where(residual == 0, 1.0, 0.0))
    return float(scores.mean())


@dataclass(frozen=True)
class Score:
    """How right a network is on one data set: accuracy for a classifier, mean squared
    error and R² for a regression network (the others are None)."""

    accuracy: float | None = None
    mse: float | None = None
    r2: float | None = None


def score(outputs: np.ndarray, targets: np.ndarray, task: str) -> Score:
    """The score of `task`'s metric(s) for the outputs and checked targets
    (`mlp_numpy.inputs.check_targets`)."""
    if task == "regression":
        return Score(mse=mean_squared_error(outputs, targets), r2=r2_score(outputs, targets))
    return Score(accuracy=accuracy(outputs, targets))
