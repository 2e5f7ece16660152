"""Evaluation: accuracy, per-class accuracy and the confusion matrix.

A sample counts as correct when its largest output is its label (ties go to the
lowest class index, as `argmax`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _predictions(proba: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    proba, labels = np.asarray(proba), np.asarray(labels)
    if proba.ndim != 2 or labels.shape != (len(proba),):
        raise ValueError(f"proba {proba.shape} and labels {labels.shape} do not match")
    return proba.argmax(axis=1), labels.astype(np.int64)


def accuracy(proba: np.ndarray, labels: np.ndarray) -> float:
    """The share of rows whose largest output is the label."""
    predicted, labels = _predictions(proba, labels)
    return float((predicted == labels).mean())


def confusion_matrix(proba: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class."""
    predicted, labels = _predictions(proba, labels)
    k = proba.shape[1]
    return np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)


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
