"""The training loop shared by every backend (docs/model-spec.md#the-training-loop).

A backend supplies an `Engine` (its parameters, optimizer state and training data
on its device); `fit` runs the epochs over it: the checks of the test and validation
data, the batch order, the learning-rate schedule, the history, early stopping with
best-weights restore, and the divergence check are this one piece of code for every
framework.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .batches import epoch_batches
from .inputs import check_targets, check_training_inputs
from .layer import Layer
from .metrics import Score, score
from .spec import ModelSpec


@runtime_checkable
class Engine(Protocol):
    """What `fit` needs of a backend: the parameters, optimizer state and training data on
    the backend's device, stepped one epoch at a time (docs/model-spec.md#the-backend-
    protocol). `isinstance(engine, Engine)` checks that an object has these methods."""

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order` (indices into the training
        data); returns each step's loss, computed in the training dtype before the
        step's update, as float64 numbers (docs/model-spec.md#divergence)."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs a for inputs x (rows are samples)."""

    def get_layers(self) -> list[Layer]:
        """The parameters as NumPy arrays in the weight-format orientation."""

    def set_layers(self, layers: list[Layer]) -> None:
        """Replace the parameters (weight-format orientation)."""


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of training. `epoch` counts from 1. A classifier's epochs have accuracies
    (test and validation ones None without those data); a regression network's have the
    mean squared error and R² in their place (`mlp_numpy.metrics`), its accuracies None."""

    epoch: int
    lr: float
    loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    val_accuracy: float | None
    seconds: float
    train_mse: float | None = None
    test_mse: float | None = None
    val_mse: float | None = None
    train_r2: float | None = None
    test_r2: float | None = None
    val_r2: float | None = None


@dataclass
class History:
    """Every epoch's record; `best_epoch` is the epoch of the best validation score (the
    highest accuracy, or for regression the lowest mean squared error; None without
    validation data); `stopped_early` tells whether patience ran out."""

    records: list[EpochRecord] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": [asdict(r) for r in self.records],
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
        }


class DivergenceError(RuntimeError):
    """The loss or a parameter stopped being finite; `epoch` and `step` count from 1."""

    def __init__(self, epoch: int, step: int, lr: float) -> None:
        self.epoch, self.step, self.lr = epoch, step, lr
        super().__init__(
            f"training diverged at epoch {epoch}, step {step} with learning rate {lr:g}: "
            "the loss or a weight is no longer finite; try a smaller learning rate"
        )


def _check_data(spec: ModelSpec, data: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A pair (x, labels) checked as training data (`mlp_numpy.inputs`). Errors of the
    "test" and "validation" data are the training data's messages after "test: " or
    "validation: "."""
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError(f"{name}: expected a pair (x, labels)")
    network = spec.network
    try:
        x = check_training_inputs(data[0], network.layers[0])
        labels = check_targets(data[1], len(x), network)
    except ValueError as error:
        if name == "train":
            raise
        raise ValueError(f"{name}: {error}") from None
    return x, labels


def fit(
    engine: Engine,
    spec: ModelSpec,
    *,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray] | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Callable[[EpochRecord], None] | None = None,
) -> History:
    """Train `engine` for `spec.training.epochs` epochs and return the history.

    `train` must be the data the engine was built on (fit scores the network on it);
    `test` and `validation` are checked as it is, before the first epoch. `progress` is
    called with each epoch's record. A batch size larger than the training set warns
    once and trains on the whole set in each step.
    """
    config = spec.training
    x, labels = _check_data(spec, train, "train")
    test = None if test is None else _check_data(spec, test, "test")
    validation = None if validation is None else _check_data(spec, validation, "validation")
    if config.patience and validation is None:
        raise ValueError("training.patience: early stopping needs validation data")
    if config.batch_size is not None and config.batch_size > len(x):
        warnings.warn(
            f"training.batch_size: {config.batch_size} is more than the {len(x)} training "
            'samples, so every step trains on all of them (as batch_size = None, "full")',
            stacklevel=2,
        )
    task = spec.network.task
    eval_size = config.train_eval_size or len(x)
    history = History()
    best: float | None = None
    best_layers = None
    for epoch in range(config.epochs):
        lr = config.schedule.lr_at(epoch, config.epochs)
        batches = epoch_batches(
            len(x),
            config.batch_size,
            config.seed,
            epoch,
            shuffle=config.shuffle,
            drop_last=config.drop_last,
        )
        start = time.perf_counter()
        losses = np.asarray(engine.train_batches(batches.order, batches.batch_size, lr))
        seconds = time.perf_counter() - start
        _check_divergence(engine, losses, epoch, lr)
        sizes = batches.sizes()
        on_train = score(engine.predict_proba(x[:eval_size]), labels[:eval_size], task)
        on_test, on_validation = _score_on(engine, test, task), _score_on(engine, validation, task)
        record = EpochRecord(
            epoch=epoch + 1,
            lr=lr,
            loss=float((losses * sizes).sum() / sizes.sum()),
            train_accuracy=on_train.accuracy,
            test_accuracy=on_test.accuracy,
            val_accuracy=on_validation.accuracy,
            seconds=seconds,
            train_mse=on_train.mse,
            test_mse=on_test.mse,
            val_mse=on_validation.mse,
            train_r2=on_train.r2,
            test_r2=on_test.r2,
            val_r2=on_validation.r2,
        )
        history.records.append(record)
        if progress is not None:
            progress(record)
        validated = _validation_score(record)
        if validated is not None and (best is None or validated > best):
            best, history.best_epoch = validated, record.epoch
            if config.patience:
                best_layers = engine.get_layers()
        elif config.patience and record.epoch - (history.best_epoch or 0) >= config.patience:
            history.stopped_early = True
            break
    if best_layers is not None and history.best_epoch != history.records[-1].epoch:
        engine.set_layers(best_layers)
    return history


def _score_on(engine: Engine, data: tuple[np.ndarray, np.ndarray] | None, task: str) -> Score:
    return Score() if data is None else score(engine.predict_proba(data[0]), data[1], task)


def _validation_score(record: EpochRecord) -> float | None:
    """The number early stopping maximizes: the validation accuracy, or for regression
    minus the validation mean squared error (None without validation data)."""
    if record.val_mse is not None:
        return -record.val_mse
    return record.val_accuracy


def _check_divergence(engine: Engine, losses: np.ndarray, epoch: int, lr: float) -> None:
    """Raise DivergenceError at the first step whose loss is not finite, or at the
    epoch's last step when only the final parameters are not finite."""
    finite = np.isfinite(losses)
    if not finite.all():
        raise DivergenceError(epoch + 1, int(np.argmin(finite)) + 1, lr)
    for weight, bias in engine.get_layers():
        if not np.isfinite(weight).all() or (bias is not None and not np.isfinite(bias).all()):
            raise DivergenceError(epoch + 1, len(losses), lr)
