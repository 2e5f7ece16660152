"""The typed result model: what `results.json` holds, one record per task.

A study is a set of tasks; each training run (experiment, variant, framework, device, seed)
is one, and its result is one `Run`. The lockstep equivalence and the defaults study's weight
measurement are tasks too (`Equivalence`, `DefaultsWeights`). `Results` is the whole document.
The JSON Schema of results.json (`results.schema.json`) is generated from these models
(`schema()`), and reading a document validates it against them (pydantic): nothing checks
JSON by hand.

Documents of schema versions 1 and 2 are upgraded on reading (`upgrade`): their runs keep
every recorded figure; what those versions did not record stays empty (a version 1 run has no
seed, structured divergence or predictions), and a version 2 `defaults` study takes the
description of its rows from the shipped `defaults.toml`.
"""

from __future__ import annotations

import json
import statistics
import tomllib
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 3  # 3: one record per task, sessions and executors, typed study and statuses
REFERENCE = "numpy"  # the framework every other one is compared with, on the CPU

Fraction = Annotated[float, Field(ge=0, le=1)]
Seconds = Annotated[float, Field(ge=0)]
Status = Literal["ok", "skipped", "not_run", "interrupted", "diverged", "failed"]
# Display names of the frameworks that documents before version 3 could hold.
LEGACY_DISPLAY = {"numpy": "NumPy", "torch": "PyTorch", "tf": "TensorFlow"}


class Record(BaseModel):
    """A part of results.json: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class FrameworkInfo(Record):
    display: str  # "PyTorch": how the report names it
    available: bool
    devices: list[str]
    error: str | None


class Environment(Record):
    """Versions, CPU, threads and GPU of the machine that ran the study's client."""

    python: str
    platform: str
    cpu_model: str
    cpu_count: Annotated[int, Field(ge=0)]
    threads: dict[str, Any]
    gpu: str | None
    packages: dict[str, str | None]
    frameworks: dict[str, FrameworkInfo]


class Executor(Record):
    """How one session ran its tasks.

    `sequential`: one after another in the `mlp-compare` process. `local`: a Dask
    LocalCluster of `workers` processes on this machine, worker i pinned to `cores[i]`
    (None: not pinned). `scheduler`: an existing Dask cluster at `address`, `workers` the
    count it had when the session started. `threads`: CPU threads each framework gets in each
    worker (0: the frameworks' own defaults).
    """

    kind: Literal["sequential", "local", "scheduler"]
    workers: Annotated[int, Field(ge=1)]
    threads: Annotated[int, Field(ge=0)]
    cores: list[list[int]] | None = None
    address: str | None = None


class Session(Record):
    """One `mlp-compare run` (or `--resume`) of the study: its wall time and executor."""

    command: str
    started: str
    finished: str | None = None
    wall_seconds: Seconds | None = None
    tasks: Annotated[int, Field(ge=0)] = 0  # tasks it ran to a record
    executor: Executor


class Options(Record):
    """What the study runs, beyond its experiments: enough to resume it."""

    frameworks: list[str]
    devices: list[str]
    equivalence_steps: Annotated[int, Field(ge=0)]
    threads: Annotated[int, Field(ge=0)]


class Epoch(Record):
    epoch: Annotated[int, Field(ge=1)]
    lr: Annotated[float, Field(ge=0)]
    loss: float | None
    train_accuracy: Fraction | None
    test_accuracy: Fraction | None
    val_accuracy: Fraction | None
    seconds: Seconds


class Metrics(Record):
    """Every figure of one finished training run (`mlp_compare.results.run_metrics`)."""

    final_train_accuracy: Fraction
    final_test_accuracy: Fraction
    best_train_accuracy: Fraction | None
    best_test_accuracy: Fraction | None
    best_test_epoch: Annotated[int, Field(ge=1)] | None
    generalization_gap: Annotated[float, Field(ge=-1, le=1)]
    final_loss: float | None
    epochs: Annotated[int, Field(ge=0)]
    steps: Annotated[int, Field(ge=0)]
    seconds_training: Seconds
    seconds_wall: Seconds
    cpu_seconds: Seconds
    seconds_per_epoch: Seconds | None
    steps_per_second: Seconds | None
    parameters: Annotated[int, Field(ge=1)]
    per_class_accuracy: Annotated[list[Fraction | None], Field(min_length=1)]
    confusion_matrix: Annotated[list[list[Annotated[int, Field(ge=0)]]], Field(min_length=1)]


class Divergence(Record):
    """The first step (epochs and steps count from 1) whose loss or weights were not finite."""

    epoch: Annotated[int, Field(ge=1)]
    step: Annotated[int, Field(ge=1)]
    lr: float


class Worker(Record):
    """Where a run trained: the worker's name ("main" without Dask), host, process and the
    CPU cores it could use, the threads the study gave each framework (0: their defaults)
    and the thread settings the run's framework reported (its backend's `thread_settings`)."""

    name: str
    host: str
    pid: int
    cores: list[int] | None
    threads: Annotated[int, Field(ge=0)]
    settings: dict[str, int | None] = {}


class Run(Record):
    """One task's result: a framework × device × variant × seed training run.

    `conventions`, on a reference (NumPy) run only, names the framework whose conventions
    it ran under (`mlp_numpy.conventions.resolve`); None is the reference's own.
    `status`: ok; skipped (the target cannot run here: `reason`, `hint` installs it);
    not_run (the spec pins something the framework has no built-in for: `reason` is
    "<field>: <why>"); interrupted; diverged (`divergence`); failed (`reason`).
    """

    experiment: str
    variant: str
    framework: str
    device: str
    backend_device: str | None
    seed: Annotated[int, Field(ge=0)] | None
    conventions: str | None = None
    status: Status
    reason: str | None
    hint: str | None
    started: str | None
    metrics: Metrics | None
    history: list[Epoch]
    divergence: Divergence | None = None
    test_predictions: str | None = None
    worker: Worker | None = None

    @property
    def finished(self) -> bool:
        return self.status == "ok" and self.metrics is not None

    @property
    def target(self) -> tuple[str, str, str | None]:
        """What ran: framework, device and (for a reference run) whose conventions."""
        return (self.framework, self.device, self.conventions)

    @property
    def test_accuracy(self) -> float | None:
        return self.metrics.final_test_accuracy if self.metrics else None

    @property
    def train_accuracy(self) -> float | None:
        return self.metrics.final_train_accuracy if self.metrics else None

    @property
    def epoch_seconds(self) -> list[float]:
        return [h.seconds for h in self.history]

    @property
    def median_epoch_seconds(self) -> float | None:
        return statistics.median(self.epoch_seconds) if self.history else None

    def test_at(self, epoch: int | None) -> float | None:
        """Test accuracy after `epoch` (1-based) where the history has it, else the final one."""
        if epoch and epoch <= len(self.history):
            value = self.history[epoch - 1].test_accuracy
            if value is not None:
                return value
        return self.test_accuracy


class UpdateGap(Record):
    """The parameter whose update at one step differs most from the reference's update."""

    layer: Annotated[int, Field(ge=0)]  # 0-based
    parameter: Literal["weight", "bias"]
    index: list[Annotated[int, Field(ge=0)]]
    update: float | None
    reference_update: float | None
    kink_margin: Annotated[float, Field(ge=0)] | None  # min |pre-activation| over the batch


class Curve(Record):
    """One framework × device against the reference, step by step from the same weights.

    `reference_conventions`: whose conventions the reference ran under for this curve (the
    framework's own, so that the comparison tests its built-ins against the documented
    formula); None: the reference's own."""

    framework: str
    device: str
    max_weight_diff: list[float | None]  # None: not finite
    loss_diff: list[float | None]
    losses: list[float | None]
    largest_update_gap: list[UpdateGap] = []
    reference_conventions: str | None = None


class Remeasured(Record):
    at: str
    command: str


class NotInLockstep(Record):
    """A framework × device left out of a lockstep check: the variant pins a convention it
    has no built-in for (its runs are "not run" for the same reason)."""

    framework: str
    device: str
    reason: str  # "<field>: <why>", the backend's ConventionError


class Equivalence(Record):
    """The lockstep equivalence of one variant: every framework against the reference."""

    variant: str
    reference: str  # "numpy/cpu"
    dtype: Literal["float32", "float64"]
    steps: Annotated[int, Field(ge=0)]
    optimizer: str  # the variant's, which explains some partings (Adam's normalized step)
    lr: float | None  # its learning rate at the start
    curves: list[Curve]
    remeasured: Remeasured | None = None
    not_run: list[NotInLockstep] = []


class WeightEffect(Record):
    """One switched default's effect on the weights: the reference trained from the base's
    start and batches, or from the variant's own start (`own_start`: the default changes the
    initialization) or another permutation of the same images (`other_order`)."""

    variant: str
    relative_weight_difference: Annotated[float, Field(ge=0)]
    relative_norm_difference: Annotated[float, Field(ge=0)]
    own_start: bool
    other_order: bool


class DefaultsWeights(Record):
    """The defaults study's measurement on the weights (`mlp_compare.defaults_study`)."""

    steps: Annotated[int, Field(ge=1)]
    samples: Annotated[int, Field(ge=1)]
    dtype: Literal["float64"]
    rows: list[WeightEffect]


class Tutorial(Record):
    """A variant written as a framework's tutorial writes it, trained in that framework."""

    variant: str
    framework: str


class Study(Record):
    """The framework-defaults study, described by the experiment (docs/experiments.md).

    `base`: the variant every row is compared with. `columns`: the default sets the rows
    compare, key -> heading ("torch" -> "PyTorch"), in the order of each row's `values`.
    `tutorials`: each framework as its tutorial writes it; the tutorial gap is each one
    against the first."""

    kind: Literal["defaults"]
    base: str
    columns: dict[str, str]
    tutorials: list[Tutorial]


class Default(Record):
    """The default a study variant switches: its name and its value in each column."""

    name: str
    values: dict[str, str]


class Variant(Record):
    name: str
    description: str
    set: dict[str, Any]
    init_from: str | None
    spec: dict[str, Any]
    default: Default | None = None


class DataSizes(Record):
    train: Annotated[int, Field(ge=0)]
    test: Annotated[int, Field(ge=0)]
    validation: Annotated[int, Field(ge=0)]


class PublishedResult(Record):
    framework: str  # a framework, or "all": a figure every framework targets
    variant: str | None
    train_accuracy: Fraction | None
    test_accuracy: Fraction | None
    epoch: Annotated[int, Field(ge=1)] | None
    note: str


class Published(Record):
    source: str
    summary: str
    results: list[PublishedResult]


class BestWeights(Record):
    path: str
    framework: str
    device: str
    variant: str


class Experiment(Record):
    name: str
    title: str
    description: str
    source: str
    data: dict[str, Any]
    data_sizes: DataSizes
    published: Published
    spec: dict[str, Any]
    seeds: list[Annotated[int, Field(ge=0)]]
    study: Study | None = None
    variants: Annotated[list[Variant], Field(min_length=1)]
    runs: list[Run]
    equivalence: Equivalence | None
    best_weights: BestWeights | None
    defaults_weights: DefaultsWeights | None = None

    @property
    def variant_names(self) -> list[str]:
        return [v.name for v in self.variants]

    @property
    def test_size(self) -> int:
        return self.data_sizes.test

    @property
    def classes(self) -> int:
        return int(self.spec["network"]["layers"][-1])

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def runs_of(self, variant: str) -> list[Run]:
        return [r for r in self.runs if r.variant == variant]

    @property
    def finished(self) -> list[Run]:
        return [r for r in self.runs if r.finished]

    def configuration(self, variant: str) -> str:
        """A key equal for two variants that train the same network on the same data."""
        chosen = self.variant(variant)
        return json.dumps([self.data, chosen.spec, chosen.init_from], sort_keys=True)


class Results(Record):
    """results.json: a study's experiments, their runs, and how and where they ran."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_name: Literal["mlp-compare/results"] = Field(
        default="mlp-compare/results", alias="schema"
    )
    schema_version: Literal[3] = 3
    run_id: str
    command: str
    started: str
    finished: str | None
    status: Literal["running", "complete", "interrupted", "failed"]
    environment: Environment
    options: Options
    sessions: list[Session]
    experiments: list[Experiment]

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return upgrade(data) if isinstance(data, dict) else data

    def display(self, framework: str) -> str:
        """How the report names a framework: its display name, as recorded."""
        info = self.environment.frameworks.get(framework)
        return info.display if info else framework

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=1) + "\n"


def schema() -> dict[str, Any]:
    """The JSON Schema of results.json, generated from `Results`."""
    document = Results.model_json_schema(by_alias=True, mode="serialization")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["$id"] = "mlp-compare/results.schema.json"
    return document


def schema_text() -> str:
    """`results.schema.json` exactly as shipped: `python -m mlp_compare.records` prints it."""
    return json.dumps(schema(), indent=1, ensure_ascii=False) + "\n"


def upgrade(document: dict[str, Any]) -> dict[str, Any]:
    """A version 1 or 2 document in version 3's shape; version 3 passes through unchanged."""
    version = document.get("schema_version")
    if version == SCHEMA_VERSION or version not in (1, 2):
        return document
    try:
        return _upgrade(json.loads(json.dumps(document)))  # on a deep copy
    except (KeyError, TypeError, StopIteration) as exc:  # pydantic reports a ValueError
        raise ValueError(f"a schema version {version} document without {exc!r}") from None


def _upgrade(old: dict[str, Any]) -> dict[str, Any]:
    frameworks = old["environment"]["frameworks"]
    for name, info in frameworks.items():
        info.setdefault("display", LEGACY_DISPLAY.get(name, name))
    experiments = old["experiments"]
    for experiment in experiments:
        _upgrade_experiment(experiment)
    runs = [r for e in experiments for r in e["runs"]]
    steps = [e["equivalence"]["steps"] for e in experiments if e.get("equivalence")]
    old["options"] = {
        "frameworks": list(frameworks),
        "devices": list(dict.fromkeys(r["device"] for r in runs)) or ["cpu"],
        "equivalence_steps": max(steps, default=0),
        "threads": old["environment"]["threads"].get("numpy_blas") or 0,
    }
    old["sessions"] = [
        {
            "command": old["command"],
            "started": old["started"],
            "finished": old["finished"],
            "executor": {"kind": "sequential", "workers": 1, "threads": old["options"]["threads"]},
        }
    ]
    old["schema_version"] = SCHEMA_VERSION
    return old


def _upgrade_experiment(experiment: dict[str, Any]) -> None:
    experiment.pop("seed_summary", None)  # derived from the runs; computed when rendering
    experiment.setdefault("seeds", [])
    experiment.setdefault("best_weights", None)
    derived = {v["name"] for v in experiment["variants"] if v["init_from"]}
    for run in experiment["runs"]:
        run["experiment"] = experiment["name"]
        run.setdefault("seed", None)
        # Before version 3 a spec option without a built-in was "skipped" too; unlike a
        # target that cannot run, it had a device (and a variant of its own weights).
        resolved = run["backend_device"] is not None and run["variant"] not in derived
        if run["status"] == "skipped" and resolved:
            run["status"] = "not_run"
    equivalence = experiment["equivalence"]
    if equivalence:
        spec = next(
            v["spec"] for v in experiment["variants"] if v["name"] == equivalence["variant"]
        )
        equivalence["optimizer"] = spec["training"]["optimizer"]["name"]
        equivalence["lr"] = spec["training"]["schedule"]["lr"]
    study = experiment.pop("study", None)
    weights = experiment.pop("defaults_study", None)
    if study == "defaults":
        _upgrade_defaults_study(experiment, weights)


def _upgrade_defaults_study(experiment: dict[str, Any], weights: dict[str, Any] | None) -> None:
    """A version 2 defaults study: its description from the shipped `defaults.toml`, its
    weight measurement with each row's start and order as the rows' specs say."""
    shipped = tomllib.loads(
        (resources.files("mlp_compare") / "experiments" / "defaults.toml").read_text("utf-8")
    )
    experiment["study"] = shipped["study"]
    described = {v["name"]: v.get("default") for v in shipped["variants"]}
    specs = {v["name"]: v["spec"] for v in experiment["variants"]}
    base = specs[shipped["study"]["base"]]
    for variant in experiment["variants"]:
        variant["default"] = described.get(variant["name"])
    if weights:
        experiment["defaults_weights"] = {
            "steps": weights["steps"],
            "samples": weights["samples"],
            "dtype": weights["dtype"],
            "rows": [
                {
                    "variant": row["variant"],
                    "relative_weight_difference": row["relative_weight_difference"],
                    "relative_norm_difference": row["relative_norm_difference"],
                    "own_start": specs[row["variant"]]["init"] != base["init"],
                    "other_order": specs[row["variant"]]["training"]["batch_order"]
                    != base["training"]["batch_order"],
                }
                for row in weights["rows"]
            ],
        }


if __name__ == "__main__":
    print(schema_text(), end="")
