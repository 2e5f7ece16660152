"""A typed view of results.json: the runs, timings and equivalence curves the findings read.

`experiments(document)` turns a validated results document (schema version 1 or 2) into
`ExperimentResult`s. Version 1 documents lack seeds, structured divergences, test
predictions and update gaps: those fields are None or empty, and the divergence step is read
from the run's reason where the text gives it.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from typing import Any

NAMES = {"numpy": "NumPy", "torch": "PyTorch", "tf": "TensorFlow", "jax": "JAX"}
DIVERGED_TEXT = re.compile(r"diverged at epoch (\d+), step (\d+) with learning rate ([^:\s]+)")


@dataclass(frozen=True)
class Divergence:
    """The first step (epochs and steps count from 1) whose loss or weights were not finite."""

    epoch: int
    step: int
    lr: float


@dataclass(frozen=True)
class Run:
    """One framework × device × variant (× seed) training run."""

    variant: str
    framework: str
    device: str
    status: str  # ok, skipped, interrupted, diverged, failed
    reason: str | None = None
    hint: str | None = None
    seed: int | None = None
    test_accuracy: float | None = None
    train_accuracy: float | None = None
    epoch_seconds: tuple[float, ...] = ()
    seconds_training: float | None = None
    seconds_wall: float | None = None
    cpu_seconds: float | None = None
    divergence: Divergence | None = None
    predictions: str | None = None
    test_history: tuple[float | None, ...] = ()

    def test_at(self, epoch: int | None) -> float | None:
        """Test accuracy after `epoch` (1-based) where the history has it, else the final one."""
        if epoch and epoch <= len(self.test_history) and self.test_history[epoch - 1] is not None:
            return self.test_history[epoch - 1]
        return self.test_accuracy

    @property
    def finished(self) -> bool:
        return self.status == "ok" and self.test_accuracy is not None

    @property
    def target(self) -> tuple[str, str]:
        return (self.framework, self.device)

    @property
    def label(self) -> str:
        """ "PyTorch/cpu": how the report names a framework on a device."""
        return f"{NAMES[self.framework]}/{self.device}"

    @property
    def median_epoch_seconds(self) -> float | None:
        return statistics.median(self.epoch_seconds) if self.epoch_seconds else None

    def outcome(self) -> str:
        """What happened to a run that did not finish, in a few words."""
        if self.status == "diverged" and self.divergence is not None:
            d = self.divergence
            return f"diverged at epoch {d.epoch}, step {d.step} (lr {d.lr:g})"
        if self.status == "skipped":
            return "skipped"
        return f"{self.status}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class UpdateGap:
    """The parameter whose update at one step differs most from the reference's update."""

    layer: int  # 0-based
    parameter: str  # weight or bias
    index: tuple[int, ...]
    update: float | None
    reference_update: float | None
    kink_margin: float | None  # min |pre-activation| of that ReLU unit over the batch

    def name(self) -> str:
        """W2[17, 180] or b1[3]: 1-based layer, 0-based index as in the weight file."""
        letter = "W" if self.parameter == "weight" else "b"
        return f"{letter}{self.layer + 1}[{', '.join(map(str, self.index))}]"


@dataclass(frozen=True)
class Curve:
    """One framework × device against the reference, step by step from the same weights."""

    framework: str
    device: str
    weight_diff: tuple[float | None, ...]  # None: not finite
    loss_diff: tuple[float | None, ...] = ()
    gaps: tuple[UpdateGap, ...] = ()

    @property
    def label(self) -> str:
        return f"{NAMES[self.framework]}/{self.device}"


@dataclass(frozen=True)
class Equivalence:
    variant: str
    reference: str  # "numpy/cpu"
    dtype: str
    steps: int
    curves: tuple[Curve, ...]
    optimizer: str = "sgd"
    lr: float | None = None
    remeasured: str | None = None  # "2026-12-01T23:00:00+00:00 by `mlp-compare report …`"

    @property
    def reference_label(self) -> str:
        framework, device = self.reference.split("/")
        return f"{NAMES[framework]}/{device}"


@dataclass(frozen=True)
class Published:
    """A published figure the experiment revisits; framework "all" means every framework."""

    framework: str
    variant: str | None
    test_accuracy: float | None
    epoch: int | None
    note: str


@dataclass(frozen=True)
class VariantInfo:
    name: str
    overrides: dict[str, Any]
    init_from: str | None
    loss: str  # "cross_entropy (mean)"


@dataclass(frozen=True)
class ExperimentResult:
    name: str
    title: str = ""
    test_size: int = 10000
    classes: int = 10
    variants: tuple[str, ...] = ()
    runs: tuple[Run, ...] = ()
    equivalence: Equivalence | None = None
    best_weights: dict[str, str] | None = None
    variant_specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    variant_info: tuple[VariantInfo, ...] = ()
    published: tuple[Published, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def configuration(self, variant: str) -> str:
        """A key equal for two variants that train the same network on the same data."""
        info = next((v for v in self.variant_info if v.name == variant), None)
        origin = info.init_from if info else None
        return json.dumps([self.data, self.variant_specs.get(variant), origin], sort_keys=True)

    def runs_of(self, variant: str) -> list[Run]:
        return [r for r in self.runs if r.variant == variant]

    @property
    def finished(self) -> list[Run]:
        return [r for r in self.runs if r.finished]


def experiments(document: dict[str, Any]) -> list[ExperimentResult]:
    """Every experiment of a results document, typed."""
    return [experiment(item) for item in document["experiments"]]


def experiment(item: dict[str, Any]) -> ExperimentResult:
    specs = {v["name"]: v["spec"] for v in item["variants"]}
    return ExperimentResult(
        name=item["name"],
        title=item["title"],
        test_size=int(item["data_sizes"]["test"]),
        classes=int(item["spec"]["network"]["layers"][-1]),
        variants=tuple(v["name"] for v in item["variants"]),
        runs=tuple(run(r) for r in item["runs"]),
        equivalence=equivalence(item["equivalence"], specs) if item["equivalence"] else None,
        best_weights=item.get("best_weights"),
        variant_specs=specs,
        data=item["data"],
        variant_info=tuple(
            VariantInfo(
                v["name"],
                v["set"],
                v["init_from"],
                f"{v['spec']['loss']['name']} ({v['spec']['loss']['reduction']})",
            )
            for v in item["variants"]
        ),
        published=tuple(
            Published(p["framework"], p["variant"], p["test_accuracy"], p["epoch"], p["note"])
            for p in item["published"]["results"]
        ),
    )


def run(item: dict[str, Any]) -> Run:
    metrics = item["metrics"] or {}
    return Run(
        variant=item["variant"],
        framework=item["framework"],
        device=item["device"],
        status=item["status"],
        reason=item["reason"],
        hint=item["hint"],
        seed=item.get("seed"),
        test_accuracy=metrics.get("final_test_accuracy"),
        train_accuracy=metrics.get("final_train_accuracy"),
        epoch_seconds=tuple(float(h["seconds"]) for h in item["history"]),
        seconds_training=metrics.get("seconds_training"),
        seconds_wall=metrics.get("seconds_wall"),
        cpu_seconds=metrics.get("cpu_seconds"),
        divergence=_divergence(item),
        predictions=item.get("test_predictions"),
        test_history=tuple(h["test_accuracy"] for h in item["history"]),
    )


def _divergence(item: dict[str, Any]) -> Divergence | None:
    if item.get("divergence"):
        d = item["divergence"]
        return Divergence(int(d["epoch"]), int(d["step"]), float(d["lr"]))
    if item["status"] == "diverged" and item["reason"]:
        match = DIVERGED_TEXT.search(item["reason"])
        if match:
            return Divergence(int(match[1]), int(match[2]), float(match[3]))
    return None


def equivalence(item: dict[str, Any], specs: dict[str, dict[str, Any]]) -> Equivalence:
    training = specs.get(item["variant"], {}).get("training", {})
    return Equivalence(
        variant=item["variant"],
        reference=item["reference"],
        dtype=item["dtype"],
        steps=int(item["steps"]),
        optimizer=training.get("optimizer", {}).get("name", "sgd"),
        lr=training.get("schedule", {}).get("lr"),
        remeasured=(
            f"{item['remeasured']['at']} by `{item['remeasured']['command']}`"
            if item.get("remeasured")
            else None
        ),
        curves=tuple(
            Curve(
                framework=c["framework"],
                device=c["device"],
                weight_diff=tuple(c["max_weight_diff"]),
                loss_diff=tuple(c["loss_diff"]),
                gaps=tuple(
                    UpdateGap(
                        layer=g["layer"],
                        parameter=g["parameter"],
                        index=tuple(g["index"]),
                        update=g["update"],
                        reference_update=g["reference_update"],
                        kink_margin=g["kink_margin"],
                    )
                    for g in c.get("largest_update_gap", [])
                ),
            )
            for c in item["curves"]
        ),
    )
