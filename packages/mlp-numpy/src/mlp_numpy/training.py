"""The training loop shared by every backend (docs/model-spec.md#the-training-loop).

A backend supplies an `Engine` (its parameters, optimizer state and training data
on its device); `fit` runs the epochs over it: the batch order, the learning-rate
schedule, the history, early stopping with best-weights restore, and the
divergence check are this one piece of code for every framework.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .batches import epoch_batches
from .layer import Layer
from .metrics import accuracy
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
    """One epoch of training. `epoch` counts from 1; accuracies are None when not measured."""

    epoch: int
    lr: float
    loss: float
    train_accuracy: float
    test_accuracy: float | None
    val_accuracy: float | None
    seconds: float


@dataclass
class History:
    """Every epoch's record; `best_epoch` is the epoch of the best validation accuracy
    (None without validation data); `stopped_early` tells whether patience ran out."""

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


def _check_data(name: str, data: Any) -> tuple[np.ndarray, np.ndarray]:
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError(f"{name}: expected a pair (x, labels)")
    x, labels = np.asarray(data[0]), np.asarray(data[1])
    if len(x) != len(labels):
        raise ValueError(f"{name}: {len(x)} samples but {len(labels)} labels")
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

    `train` must be the data the engine was built on (fit measures training
    accuracy on it); `progress` is called with each epoch's record.
    """
    config = spec.training
    x, labels = _check_data("train", train)
    test = None if test is None else _check_data("test", test)
    validation = None if validation is None else _check_data("validation", validation)
    if config.patience and validation is None:
        raise ValueError("training.patience: early stopping needs validation data")
    eval_size = config.train_eval_size or len(x)
    history = History()
    best_accuracy, best_layers = -1.0, None
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
        record = EpochRecord(
            epoch=epoch + 1,
            lr=lr,
            loss=float((losses * sizes).sum() / sizes.sum()),
            train_accuracy=accuracy(engine.predict_proba(x[:eval_size]), labels[:eval_size]),
            test_accuracy=_accuracy_on(engine, test),
            val_accuracy=_accuracy_on(engine, validation),
            seconds=seconds,
        )
        history.records.append(record)
        if progress is not None:
            progress(record)
        if record.val_accuracy is not None and record.val_accuracy > best_accuracy:
            best_accuracy, history.best_epoch = record.val_accuracy, record.epoch
            if config.patience:
                best_layers = engine.get_layers()
        elif config.patience and record.epoch - (history.best_epoch or 0) >= config.patience:
            history.stopped_early = True
            break
    if best_layers is not None and history.best_epoch != history.records[-1].epoch:
        engine.set_layers(best_layers)
    return history


def _accuracy_on(engine: Engine, data: tuple[np.ndarray, np.ndarray] | None) -> float | None:
    return None if data is None else accuracy(engine.predict_proba(data[0]), data[1])


def _check_divergence(engine: Engine, losses: np.ndarray, epoch: int, lr: float) -> None:
    """Raise DivergenceError at the first step whose loss is not finite, or at the
    epoch's last step when only the final parameters are not finite."""
    finite = np.isfinite(losses)
    if not finite.all():
        raise DivergenceError(epoch + 1, int(np.argmin(finite)) + 1, lr)
    for weight, bias in engine.get_layers():
        if not np.isfinite(weight).all() or (bias is not None and not np.isfinite(bias).all()):
            raise DivergenceError(epoch + 1, len(losses), lr)
