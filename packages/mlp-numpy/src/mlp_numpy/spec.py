"""The model spec: what network to build and how to train it (docs/model-spec.md).

A `ModelSpec` is four small frozen dataclasses, each validated on construction:

    ModelSpec(network=Network(layers=(784, 128, 10)), loss=Loss(), init=Init(), training=Training())

Files are TOML or JSON with one table per dataclass (`load_spec`, `save_spec`). Every
error is a `SpecError` whose message starts with the dotted name of the bad field, e.g.
`training.optimizer.beta2: must be in [0, 1), got 1.2`.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .files import write_atomic

# What the network predicts (docs/model-spec.md#tasks): a class out of K ≥ 2 (softmax or K
# sigmoid units), one of two classes (one sigmoid unit), or real values (identity outputs).
TASKS = ("classification", "binary", "regression")
HIDDEN_ACTIVATIONS = ("sigmoid", "relu", "tanh", "leaky_relu")
OUTPUTS = ("softmax", "sigmoid", "identity")
LOSSES = ("cross_entropy", "mse", "bce")
REDUCTIONS = ("mean", "sum_outputs")
INIT_SCHEMES = (
    "normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "fan_in_uniform",
    "lecun_normal",
    "file",
)
INIT_BIASES = ("zeros", "like_weights")
# Who draws the initial arrays: the reference (the same arrays in every backend) or each
# backend's framework with its own initializers and generator (docs/model-spec.md#initialization).
INIT_DRAWS = ("reference", "framework")
# The cross-entropy's input (docs/model-spec.md#loss-forms): the stable form from the logits,
# Keras's from clipped probabilities, PyTorch BCELoss's with its log clamped at −100.
LOSS_FORMS = ("framework", "logits", "clipped_probabilities", "clamped_log")
# Which order the samples are seen in (docs/model-spec.md#batch-order).
BATCH_ORDERS = ("shared", "framework")
OPTIMIZERS = ("sgd", "adam")
# The optimizer conventions (docs/model-spec.md#optimizer-conventions). The default of each,
# "framework", is whatever the training framework's built-in computes
# (mlp_numpy.conventions.BUILT_INS); the others pin one form: the papers' and PyTorch's
# first, Keras's second.
EPS_PLACEMENTS = ("framework", "sqrt_v_hat", "eps_hat")
VELOCITIES = ("framework", "gradient", "step")
WEIGHT_DECAY_FORMS = ("framework", "coupled", "decoupled")
HYPERPARAMETER_PRECISIONS = ("framework", "exact", "float32")
# The losses each task other than classification trains with (classification: any loss
# its output allows).
TASK_LOSSES = {"binary": ("bce", "mse"), "regression": ("mse",)}
SCHEDULES = ("constant", "piecewise", "step", "cosine")
DTYPES = ("float32", "float64")


class SpecError(ValueError):
    """A spec field is missing, unknown or invalid; the message starts with its dotted name."""


def _fail(name: str, problem: str) -> None:
    raise SpecError(f"{name}: {problem}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        _fail(name, f"must be one of {', '.join(choices)}; got {value!r}")


def _check_number(name: str, value: Any, low: float, high: float, *, closed_high=True) -> None:
    """`value` must be a finite real number in [low, high] (or [low, high) when not closed)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        _fail(name, f"must be a finite number, got {value!r}")
    inside = low <= value <= high if closed_high else low <= value < high
    if not inside:
        bracket = "]" if closed_high else ")"
        _fail(name, f"must be in [{low:g}, {high:g}{bracket}, got {value!r}")


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(name, f"must be an integer, got {value!r}")
    if value < low:
        _fail(name, f"must be at least {low}, got {value!r}")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        _fail(name, f"must be true or false, got {value!r}")


@dataclass(frozen=True)
class Network:
    """The architecture: `layers` = (input size, hidden sizes..., output size), and the
    `task`, which says what the outputs mean (docs/model-spec.md#tasks):

        "classification"  K ≥ 2 outputs, one per class; labels are class indices 0 … K−1
        "binary"          one sigmoid output, the probability of class 1; labels are 0 or 1
        "regression"      K identity outputs; the targets are K real values per sample
    """

    layers: tuple[int, ...]
    hidden: str = "relu"
    output: str = "softmax"
    bias: bool = True
    leaky_slope: float = 0.01
    task: str = "classification"

    def __post_init__(self) -> None:
        if not isinstance(self.layers, list | tuple):
            _fail("network.layers", f"must be a list of integers, got {self.layers!r}")
        object.__setattr__(self, "layers", tuple(self.layers))
        if len(self.layers) < 2:
            _fail("network.layers", f"needs at least two sizes (input, output), got {self.layers}")
        for i, size in enumerate(self.layers):
            _check_int(f"network.layers[{i}]", size, 1)
        _check_choice("network.hidden", self.hidden, HIDDEN_ACTIVATIONS)
        _check_choice("network.output", self.output, OUTPUTS)
        _check_bool("network.bias", self.bias)
        _check_number("network.leaky_slope", self.leaky_slope, 0.0, 1.0, closed_high=False)
        _check_choice("network.task", self.task, TASKS)
        outputs = self.layers[-1]
        if self.task == "classification" and outputs < 2:
            _fail(
                "network.layers",
                f"a classifier needs one output per class, at least 2, got {outputs}; "
                'for one sigmoid output on 0/1 labels set task = "binary"',
            )
        if self.task == "binary" and (outputs != 1 or self.output != "sigmoid"):
            _fail(
                "network.task",
                '"binary" needs one output unit with output = "sigmoid", '
                f'got {outputs} with "{self.output}"; with one output per class '
                'use task = "classification"',
            )
        if self.task == "regression" and self.output != "identity":
            _fail(
                "network.output",
                f'task "regression" needs output = "identity", got "{self.output}"',
            )

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """The weight shape (out_features, in_features) of each linear layer, in order."""
        return [(out, inp) for inp, out in zip(self.layers[:-1], self.layers[1:], strict=True)]

    @property
    def num_classes(self) -> int:
        """The number of output units (for a classifier, of classes)."""
        return self.layers[-1]


@dataclass(frozen=True)
class Loss:
    """The training loss and its reduction over the batch (docs/model-spec.md#losses)."""

    name: str = "cross_entropy"
    reduction: str = "mean"
    form: str = "framework"

    def __post_init__(self) -> None:
        _check_choice("loss.name", self.name, LOSSES)
        _check_choice("loss.reduction", self.reduction, REDUCTIONS)
        _check_choice("loss.form", self.form, LOSS_FORMS)
        needs = {"clipped_probabilities": "cross_entropy", "clamped_log": "bce"}.get(self.form)
        if needs is not None and self.name != needs:
            _fail("loss.form", f'"{self.form}" is a form of name = "{needs}", got "{self.name}"')


@dataclass(frozen=True)
class Init:
    """How the initial weights are drawn (docs/model-spec.md#initialization)."""

    scheme: str = "he_normal"
    scale: float = 0.01
    low: float = -0.5
    high: float = 0.5
    bias: str = "zeros"
    path: str | None = None
    draw: str = "reference"

    def __post_init__(self) -> None:
        _check_choice("init.scheme", self.scheme, INIT_SCHEMES)
        _check_number("init.scale", self.scale, 0.0, math.inf)
        _check_number("init.low", self.low, -math.inf, math.inf)
        _check_number("init.high", self.high, -math.inf, math.inf)
        if self.low > self.high:
            _fail("init.high", f"must be at least init.low = {self.low!r}, got {self.high!r}")
        _check_choice("init.bias", self.bias, INIT_BIASES)
        if self.path is not None and not isinstance(self.path, str):
            _fail("init.path", f"must be a string, got {self.path!r}")
        if self.scheme == "file" and not self.path:
            _fail("init.path", 'is required by init.scheme = "file"')
        _check_choice("init.draw", self.draw, INIT_DRAWS)
        if self.draw == "framework" and self.scheme in ("normal", "uniform", "file"):
            _fail("init.draw", f'"framework" draws a named scheme, not "{self.scheme}"')


@dataclass(frozen=True)
class Optimizer:
    """The update rule (docs/model-spec.md#optimizers).

    `eps_placement`, `velocity`, `weight_decay_form` and `hyperparameter_precision` name
    the conventions in which frameworks' built-ins differ (docs/model-spec.md#optimizer-
    conventions). Each defaults to "framework": every backend trains with its framework's
    built-in as it is (`mlp_numpy.conventions`); another value pins one form.
    """

    name: str = "adam"
    momentum: float = 0.0
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    eps_placement: str = "framework"
    velocity: str = "framework"
    weight_decay_form: str = "framework"
    hyperparameter_precision: str = "framework"

    def __post_init__(self) -> None:
        _check_choice("training.optimizer.name", self.name, OPTIMIZERS)
        _check_number("training.optimizer.momentum", self.momentum, 0.0, 1.0, closed_high=False)
        _check_bool("training.optimizer.nesterov", self.nesterov)
        _check_number("training.optimizer.beta1", self.beta1, 0.0, 1.0, closed_high=False)
        _check_number("training.optimizer.beta2", self.beta2, 0.0, 1.0, closed_high=False)
        _check_number("training.optimizer.eps", self.eps, 0.0, math.inf)
        _check_number("training.optimizer.weight_decay", self.weight_decay, 0.0, math.inf)
        if self.name != "sgd" and (self.momentum or self.nesterov):
            _fail("training.optimizer.momentum", 'momentum and nesterov are for name = "sgd"')
        if self.nesterov and self.momentum == 0:
            _fail("training.optimizer.nesterov", "needs momentum > 0")
        _check_choice("training.optimizer.eps_placement", self.eps_placement, EPS_PLACEMENTS)
        _check_choice("training.optimizer.velocity", self.velocity, VELOCITIES)
        _check_choice(
            "training.optimizer.weight_decay_form", self.weight_decay_form, WEIGHT_DECAY_FORMS
        )
        _check_choice(
            "training.optimizer.hyperparameter_precision",
            self.hyperparameter_precision,
            HYPERPARAMETER_PRECISIONS,
        )
        if self.name != "adam" and self.eps_placement != "framework":
            _fail("training.optimizer.eps_placement", 'eps_placement is for name = "adam"')
        if self.name != "sgd" and self.velocity != "framework":
            _fail("training.optimizer.velocity", 'velocity is for name = "sgd"')


@dataclass(frozen=True)
class Schedule:
    """The learning rate of each epoch (docs/model-spec.md#learning-rate-schedules).

    `lr` defaults to 0.001, or to `values[0]` for "piecewise".
    """

    name: str = "constant"
    lr: float | None = None
    boundaries: tuple[int, ...] = ()
    values: tuple[float, ...] = ()
    step_size: int = 10
    gamma: float = 0.1
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        _check_choice("training.schedule.name", self.name, SCHEDULES)
        for name in ("boundaries", "values"):
            value = getattr(self, name)
            if not isinstance(value, list | tuple):
                _fail(f"training.schedule.{name}", f"must be a list, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        for i, boundary in enumerate(self.boundaries):
            _check_int(f"training.schedule.boundaries[{i}]", boundary, 1)
        for i, value in enumerate(self.values):
            _check_number(f"training.schedule.values[{i}]", value, 0.0, math.inf)
        if self.name == "piecewise":
            if list(self.boundaries) != sorted(set(self.boundaries)):
                _fail("training.schedule.boundaries", "must be strictly increasing")
            if len(self.values) != len(self.boundaries) + 1:
                _fail(
                    "training.schedule.values",
                    f"needs len(boundaries) + 1 = {len(self.boundaries) + 1} rates, "
                    f"got {len(self.values)}",
                )
            if self.lr is None:
                object.__setattr__(self, "lr", self.values[0])
            elif self.lr != self.values[0]:
                _fail("training.schedule.lr", f"must equal values[0] = {self.values[0]!r}")
        elif self.lr is None:
            object.__setattr__(self, "lr", 0.001)
        _check_number("training.schedule.lr", self.lr, 0.0, math.inf)
        _check_int("training.schedule.step_size", self.step_size, 1)
        _check_number("training.schedule.gamma", self.gamma, 0.0, math.inf)
        _check_number("training.schedule.min_lr", self.min_lr, 0.0, math.inf)

    def lr_at(self, epoch: int, epochs: int) -> float:
        """The learning rate of epoch `epoch` (counted from 0) out of `epochs`."""
        if self.name == "piecewise":
            return float(self.values[sum(b <= epoch for b in self.boundaries)])
        lr = float(self.lr)  # type: ignore[arg-type]  # never None after __post_init__
        if self.name == "step":
            return lr * self.gamma ** (epoch // self.step_size)
        if self.name == "cosine":
            cosine = (1 + math.cos(math.pi * epoch / epochs)) / 2
            return self.min_lr + (lr - self.min_lr) * cosine
        return lr


@dataclass(frozen=True)
class Training:
    """The training loop: batches, epochs, seed, precision, optimizer and schedule.

    `batch_size=None` trains on the full set in one batch ("full" in files).
    `train_eval_size` and `patience` are 0 when off. `batch_order` is "shared" (every
    backend sees `mlp_numpy.batches.epoch_batches`) or "framework" (each framework shuffles
    with its own generator); `tf32` allows TensorFloat-32 in float32 products on GPUs.
    """

    batch_size: int | None = 64
    epochs: int = 10
    seed: int = 0
    shuffle: bool = True
    drop_last: bool = False
    dtype: str = "float32"
    train_eval_size: int = 0
    patience: int = 0
    batch_order: str = "shared"
    tf32: bool = False
    optimizer: Optimizer = field(default_factory=Optimizer)
    schedule: Schedule = field(default_factory=Schedule)

    def __post_init__(self) -> None:
        if self.batch_size is not None:
            _check_int("training.batch_size", self.batch_size, 1)
        _check_int("training.epochs", self.epochs, 1)
        _check_int("training.seed", self.seed, 0)
        _check_bool("training.shuffle", self.shuffle)
        _check_bool("training.drop_last", self.drop_last)
        _check_choice("training.dtype", self.dtype, DTYPES)
        _check_int("training.train_eval_size", self.train_eval_size, 0)
        _check_int("training.patience", self.patience, 0)
        _check_choice("training.batch_order", self.batch_order, BATCH_ORDERS)
        _check_bool("training.tf32", self.tf32)
        if not isinstance(self.optimizer, Optimizer):
            _fail("training.optimizer", "must be an Optimizer")
        if not isinstance(self.schedule, Schedule):
            _fail("training.schedule", "must be a Schedule")


@dataclass(frozen=True)
class ModelSpec:
    """A network and how to train it: the one input every backend accepts."""

    network: Network
    loss: Loss = field(default_factory=Loss)
    init: Init = field(default_factory=Init)
    training: Training = field(default_factory=Training)

    def __post_init__(self) -> None:
        for name, kind in (("network", Network), ("loss", Loss), ("init", Init)):
            if not isinstance(getattr(self, name), kind):
                _fail(name, f"must be a {kind.__name__}")
        if not isinstance(self.training, Training):
            _fail("training", "must be a Training")
        task, name = self.network.task, self.loss.name
        losses = TASK_LOSSES.get(task)
        if losses is not None and name not in losses:
            choices = " or ".join(f'Loss("{loss}")' for loss in losses)
            _fail("loss.name", f'task "{task}" trains with {choices}, got "{name}"')
        needs = {"cross_entropy": "softmax", "bce": "sigmoid"}.get(name)
        if needs is not None and self.network.output != needs:
            other = {"sigmoid": 'Loss("bce") or Loss("mse")', "identity": 'Loss("mse")'}
            _fail(
                "loss.name",
                f'{name} needs network.output = "{needs}", got "{self.network.output}"; '
                f"with this output use {other.get(self.network.output, repr(needs))}, "
                "passed as ModelSpec(network, loss=...)",
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """Build and validate a spec from nested tables, as read from TOML or JSON."""
        data = _table(data, "spec")
        _reject_unknown(data, {"network", "loss", "init", "training"}, "")
        if "network" not in data:
            _fail("network", "is required")
        network = _table(data["network"], "network")
        if "layers" not in network:
            _fail("network.layers", "is required")
        training = dict(_table(data.get("training", {}), "training"))
        optimizer_table = _without_former_defaults(training.pop("optimizer", {}))
        optimizer = _build(Optimizer, optimizer_table, "training.optimizer")
        schedule = _build(Schedule, training.pop("schedule", {}), "training.schedule")
        if training.get("batch_size") == "full":
            training["batch_size"] = None
        elif "batch_size" in training and training["batch_size"] is None:
            _fail("training.batch_size", 'must be an integer or "full", got null')
        return cls(
            network=_build(Network, network, "network"),
            loss=_build(Loss, data.get("loss", {}), "loss"),
            init=_build(Init, data.get("init", {}), "init"),
            training=_build(
                Training, {**training, "optimizer": optimizer, "schedule": schedule}, "training"
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """Nested plain tables (lists, numbers, strings, booleans) that `from_dict` reads back."""
        training = _plain(self.training)
        if training["batch_size"] is None:
            training["batch_size"] = "full"
        init = _plain(self.init)
        if init["path"] is None:
            del init["path"]
        return {
            "network": network_to_dict(self.network),
            "loss": _plain(self.loss),
            "init": init,
            "training": training,
        }


# Before the conventions defaulted to "framework", every spec file and weight file wrote each
# optimizer's conventions with their defaults then, the other optimizer's too: "sqrt_v_hat"
# for SGD, "gradient" for Adam. Those two never applied; reading such a file drops them.
_FORMER_DEFAULTS = {"sgd": ("eps_placement", "sqrt_v_hat"), "adam": ("velocity", "gradient")}


def _without_former_defaults(table: Any) -> Any:
    """The optimizer's table without the convention of the other optimizer at its former
    default (which files written before "framework" hold); anything else as it is."""
    if not isinstance(table, dict) or table.get("name", "adam") not in _FORMER_DEFAULTS:
        return table
    field, former = _FORMER_DEFAULTS[table.get("name", "adam")]
    return {k: v for k, v in table.items() if not (k == field and v == former)}


def network_from_dict(data: dict[str, Any]) -> Network:
    """A `Network` from its table, as stored in weight files."""
    return _build(Network, data, "network")


def network_to_dict(network: Network) -> dict[str, Any]:
    """The `[network]` table. `task` is written only when it is not "classification", so
    that a classifier's table (and weight file) is the one written before tasks existed."""
    table = _plain(network)
    if table["task"] == "classification":
        del table["task"]
    return table


def _table(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(name, f"must be a table, got {value!r}")
    return value


def _reject_unknown(data: dict[str, Any], known: set[str], prefix: str) -> None:
    for key in data:
        if key not in known:
            _fail(f"{prefix}{key}", "unknown field")


def _build(kind: type, data: Any, name: str) -> Any:
    data = _table(data, name)
    _reject_unknown(data, {f.name for f in fields(kind)}, f"{name}.")
    return kind(**data)


def _plain(value: Any) -> Any:
    """A dataclass as a dict of plain values (tuples become lists, nested tables recurse)."""
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def load_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """Read a spec from a .toml or .json file.

    A relative `init.path` is taken relative to the spec file's folder.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise SpecError(f"{path}: a spec file ends in .toml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise SpecError(f"{path}: not valid {suffix[1:].upper()}: {error}") from error
    spec = ModelSpec.from_dict(data)
    if spec.init.path is not None and not Path(spec.init.path).is_absolute():
        resolved = str(path.parent / spec.init.path)
        spec = ModelSpec(
            spec.network, spec.loss, Init(**{**_plain(spec.init), "path": resolved}), spec.training
        )
    return spec


def save_spec(spec: ModelSpec, path: str | os.PathLike[str]) -> None:
    """Write a spec as TOML or JSON (by suffix), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        text = to_toml(spec.to_dict())
    elif suffix == ".json":
        text = json.dumps(spec.to_dict(), indent=2) + "\n"
    else:
        raise SpecError(f"{path}: a spec file ends in .toml or .json")
    write_atomic(path, text.encode("utf-8"))


def to_toml(tables: dict[str, Any]) -> str:
    """Nested tables of scalars and lists as TOML: scalars first, then sub-tables."""
    lines: list[str] = []

    def emit(table: dict[str, Any], name: str) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if name and scalars:
            lines.extend(["", f"[{name}]"] if lines else [f"[{name}]"])
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in scalars.items())
        for key, value in table.items():
            if isinstance(value, dict):
                emit(value, f"{name}.{key}" if name else key)

    emit(tables, "")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
