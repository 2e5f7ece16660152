"""Running experiments: every variant × framework × device, one training run at a time.

The runner owns the results document. After every training run it rewrites results.json
(atomically), so what finished is kept however the process ends. A stop request (Ctrl-C)
is honoured at the next epoch boundary: the current run is recorded as interrupted with the
epochs it finished, and no further run starts.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mlp_compare import data as data_module
from mlp_compare import defaults_study
from mlp_compare.equivalence import run_equivalence
from mlp_compare.experiment import Experiment, Variant
from mlp_compare.frameworks import Framework
from mlp_compare.results import encode_predictions, now, run_metrics, write_json
from mlp_compare.seeds import summarize
from mlp_numpy import Layer
from mlp_numpy.batches import epoch_batches
from mlp_numpy.metrics import evaluate
from mlp_numpy.spec import ModelSpec, SpecError
from mlp_numpy.training import DivergenceError


class StopRequested(Exception):
    """Raised at an epoch boundary after the user asked the run to stop."""


class StopFlag:
    """Set by the SIGINT handler; checked between epochs and between runs."""

    def __init__(self) -> None:
        self.requested = False


class Display(Protocol):
    def start_run(self, label: str, epochs: int) -> Callable[[dict[str, Any]], None]: ...
    def finish_run(self, label: str, entry: dict[str, Any]) -> None: ...
    def message(self, text: str) -> None: ...


@dataclass(frozen=True)
class Target:
    """One framework on one device, or the reason it cannot run there."""

    framework: Framework
    device: str  # "cpu" or "gpu"
    backend_device: str | None
    reason: str | None

    @property
    def device_name(self) -> str:
        """The backend's name for the device; only a target without a skip reason has one."""
        if self.backend_device is None:
            raise ValueError(f"{self.framework.name} cannot run on {self.device}: {self.reason}")
        return self.backend_device

    @property
    def hint(self) -> str | None:
        return None if self.framework.available else self.framework.install_hint


def targets(frameworks: list[Framework], devices: list[str]) -> list[Target]:
    """Every framework × device, resolved to the backend's device name or a skip reason."""
    result = []
    for framework in frameworks:
        for device in devices:
            backend_device, reason = framework.resolve_device(device)
            result.append(Target(framework, device, backend_device, reason))
    return result


def epoch_dict(record: Any) -> dict[str, Any]:
    """An EpochRecord as plain JSON values."""

    def number(value: Any) -> float | None:
        return None if value is None or not np.isfinite(value) else float(value)

    return {
        "epoch": int(record.epoch),
        "lr": float(record.lr),
        "loss": number(record.loss),
        "train_accuracy": number(record.train_accuracy),
        "test_accuracy": number(record.test_accuracy),
        "val_accuracy": number(record.val_accuracy),
        "seconds": float(record.seconds),
    }


def with_seeds(variant: Variant, seeds: tuple[int, ...]) -> list[Variant]:
    """The variant once per seed (its `training.seed` replaced), or as it is without seeds."""
    if not seeds:
        return [variant]
    return [
        replace(
            variant, spec=replace(variant.spec, training=replace(variant.spec.training, seed=s))
        )
        for s in seeds
    ]


def parameter_count(layers: list[Layer]) -> int:
    return sum(
        layer.weight.size + (0 if layer.bias is None else layer.bias.size) for layer in layers
    )


class Runner:
    """Fills `results["experiments"]` and keeps `out/results.json` up to date."""

    def __init__(
        self, out: Path, results: dict[str, Any], display: Display, stop: StopFlag
    ) -> None:
        self.out = out
        self.results = results
        self.display = display
        self.stop = stop
        self.final_layers: dict[tuple[str, str, int], list[Layer]] = {}
        self.best_accuracy: dict[str, float] = {}
        self.save()

    def save(self) -> None:
        write_json(self.out / "results.json", self.results)

    def finish(self, status: str) -> None:
        self.results["status"] = status
        self.results["finished"] = now()
        self.save()

    def run_experiment(
        self, experiment: Experiment, plan: list[Target], *, equivalence_steps: int = 0
    ) -> None:
        """Train every variant on every target; raises StopRequested when asked to stop."""
        dataset = data_module.prepare(experiment.data)
        record = experiment.to_dict()
        record.pop("variants")
        record.update(
            data_sizes=dataset.sizes(),
            variants=experiment.to_dict()["variants"],
            runs=[],
            equivalence=None,
            best_weights=None,
        )
        self.results["experiments"].append(record)
        self.save()
        for variant in experiment.variants:
            for target in plan:
                for seeded in with_seeds(variant, experiment.seeds):
                    if self.stop.requested:
                        raise StopRequested
                    entry, model = self._run(experiment, seeded, target, dataset)
                    if model is not None:
                        self._keep_if_best(record, entry, model)
                    record["runs"].append(entry)
                    self.save()
                    if entry["status"] == "interrupted":
                        raise StopRequested
        if experiment.seeds:
            record["seed_summary"] = summarize(record["runs"])
        if experiment.study == "defaults" and not self.stop.requested:
            self.display.message(f"{experiment.name}: the defaults' effect on the weights")
            record["defaults_study"] = defaults_study.measure(experiment, dataset.train)
            self.save()
        runnable = [t for t in plan if t.reason is None]
        if equivalence_steps > 0 and len(runnable) > 1 and not self.stop.requested:
            variant = next(v for v in experiment.variants if v.init_from is None)
            self.display.message(f"{experiment.name}: equivalence over {equivalence_steps} steps")
            record["equivalence"] = run_equivalence(
                variant, dataset.train, runnable, equivalence_steps
            )
            self.save()

    def _keep_if_best(self, record: dict[str, Any], entry: dict[str, Any], model: Any) -> None:
        """Save the weights of the experiment's most accurate run so far (shared format).

        The report draws the first layer's weights from this file; one file per experiment
        keeps a run folder small.
        """
        accuracy = entry["metrics"]["final_test_accuracy"]
        if accuracy <= self.best_accuracy.get(record["name"], -1.0):
            return
        self.best_accuracy[record["name"]] = accuracy
        relative = f"weights/{record['name']}.safetensors"
        (self.out / "weights").mkdir(parents=True, exist_ok=True)
        model.save(self.out / relative)
        record["best_weights"] = {
            "path": relative,
            "framework": entry["framework"],
            "device": entry["device"],
            "variant": entry["variant"],
        }

    def _run(
        self, experiment: Experiment, variant: Variant, target: Target, dataset: Any
    ) -> tuple[dict[str, Any], Any]:
        """One training run's results entry, and its trained model when it finished."""
        entry: dict[str, Any] = {
            "framework": target.framework.name,
            "device": target.device,
            "backend_device": target.backend_device,
            "variant": variant.name,
            "status": "skipped",
            "reason": target.reason,
            "hint": target.hint,
            "started": None,
            "metrics": None,
            "history": [],
            "seed": variant.spec.training.seed,
            "divergence": None,
            "test_predictions": None,
        }
        label = f"{experiment.name}/{variant.name}"
        if target.reason is not None:
            self.display.finish_run(label, entry)
            return entry, None
        layers = None
        seed = variant.spec.training.seed
        if variant.init_from is not None:
            layers = self.final_layers.get((experiment.name, variant.init_from, seed))
            if layers is None:
                entry["reason"] = (
                    f"starts from the weights of the NumPy run of {variant.init_from!r}, "
                    "which did not finish in this run"
                )
                self.display.finish_run(label, entry)
                return entry, None
        entry["started"] = now()
        where = f"{target.framework.name}/{target.device}"
        on_epoch = self.display.start_run(f"{label} {where}", variant.spec.training.epochs)

        def progress(record: Any) -> None:
            entry["history"].append(epoch_dict(record))
            on_epoch(entry["history"][-1])
            if self.stop.requested:
                raise StopRequested

        model = None
        try:
            model, history, metrics, predictions = self._train(
                variant.spec, target, dataset, layers, progress
            )
            entry.update(status="ok", reason=None, history=history, metrics=metrics)
            entry["test_predictions"] = predictions
            if target.framework.name == "numpy" and target.device == "cpu":
                self.final_layers[(experiment.name, variant.name, seed)] = model.layers()
        except (StopRequested, KeyboardInterrupt):
            entry["status"], entry["reason"] = "interrupted", "stopped by the user (Ctrl-C)"
        except SpecError as exc:  # a spec option the framework has no built-in for
            entry["status"], entry["reason"] = "skipped", str(exc)
        except DivergenceError as exc:
            entry["status"], entry["reason"] = "diverged", str(exc)
            entry["divergence"] = {"epoch": exc.epoch, "step": exc.step, "lr": exc.lr}
        except Exception as exc:
            entry["status"] = "failed"
            entry["reason"] = f"{type(exc).__name__}: {exc}"
            tail = traceback.format_exc(limit=-3).strip().splitlines()
            self.display.message(f"{label} {where} failed:\n" + "\n".join(tail[-8:]))
        self.display.finish_run(label, entry)
        return entry, model

    def _train(
        self,
        spec: ModelSpec,
        target: Target,
        dataset: Any,
        layers: list[Layer] | None,
        progress: Callable[[Any], None],
    ) -> tuple[Any, list[dict[str, Any]], dict[str, Any], str]:
        """Train one run: its model, history, metrics and predicted test digits."""
        x, labels = dataset.train
        backend = target.framework.module
        start, cpu_start = time.perf_counter(), time.process_time()
        model, history = backend.train(
            spec,
            x,
            labels,
            test=dataset.test,
            validation=dataset.validation,
            layers=layers,
            progress=progress,
            device=target.backend_device,
        )
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        training = spec.training
        n_eval = training.train_eval_size or len(labels)
        steps = epoch_batches(
            len(labels),
            training.batch_size,
            training.seed,
            0,
            shuffle=training.shuffle,
            drop_last=training.drop_last,
        )
        history_dicts = [epoch_dict(r) for r in history.records]
        test_proba = model.predict_proba(dataset.test[0])
        metrics = run_metrics(
            history=history_dicts,
            train_accuracy=float(
                evaluate(model.predict_proba(x[:n_eval]), labels[:n_eval]).accuracy
            ),
            evaluation=evaluate(test_proba, dataset.test[1]),
            parameters=parameter_count(model.layers()),
            steps_per_epoch=len(steps),
            wall_seconds=wall,
            cpu_seconds=cpu,
        )
        predictions = encode_predictions(np.argmax(test_proba, axis=1))
        return model, history_dicts, metrics, predictions
