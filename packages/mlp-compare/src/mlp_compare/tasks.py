"""Running one task, in this process or on a Dask worker, to its typed record.

A task carries everything it needs (spec, data description, device, threads); the data is
loaded where the task runs (from MNIST_MIRROR or the cache, once per process) and the
frameworks are imported there. Before training, the task gives its framework the study's
thread count, so that runs sharing a machine do not oversubscribe its cores. The result of a
training task is its `Run` record and, when it finished, its network in the shared weight
format (bytes: they travel back to the client, which keeps the best and the ones other runs
start from).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlp_compare import data as data_module
from mlp_compare import defaults_study, records
from mlp_compare import frameworks as fw
from mlp_compare.equivalence import run_equivalence
from mlp_compare.plan import DefaultsTask, EquivalenceTask, TrainTask
from mlp_compare.results import encode_predictions, now, run_metrics
from mlp_numpy import Layer
from mlp_numpy.batches import epoch_batches
from mlp_numpy.metrics import evaluate
from mlp_numpy.spec import SpecError
from mlp_numpy.training import DivergenceError


class StopRequested(Exception):
    """Raised at an epoch boundary after the user asked the study to stop."""


@dataclass(frozen=True)
class TrainOutcome:
    run: records.Run
    weights: bytes | None  # the trained network (shared weight format) when it finished


def epoch_record(record: Any) -> records.Epoch:
    """A backend's EpochRecord as the results model holds it (non-finite values: None)."""

    def number(value: Any) -> float | None:
        return None if value is None or not np.isfinite(value) else float(value)

    return records.Epoch(
        epoch=int(record.epoch),
        lr=float(record.lr),
        loss=number(record.loss),
        train_accuracy=number(record.train_accuracy),
        test_accuracy=number(record.test_accuracy),
        val_accuracy=number(record.val_accuracy),
        seconds=float(record.seconds),
    )


def worker(threads: int, framework: fw.Framework | None = None) -> records.Worker:
    """This process as a worker: its Dask name (or "main"), host, pid, usable cores and the
    thread settings of `framework` in it."""
    name = "main"
    if sys.modules.get("distributed") is not None:  # on a Dask worker, or a client that could
        from distributed import get_worker

        with contextlib.suppress(ValueError):  # not inside a task of a worker
            name = str(get_worker().name)
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    settings = framework.module.thread_settings() if framework and framework.available else {}
    return records.Worker(
        name=name,
        host=socket.gethostname(),
        pid=os.getpid(),
        cores=cores,
        threads=threads,
        settings=settings,
    )


def train(
    task: TrainTask,
    layers: list[Layer] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainOutcome:
    """Train the task's run; every outcome, failures included, is a `Run` record.

    `should_stop` is checked after every epoch: when it says so, the run ends as
    interrupted with the epochs it finished.
    """
    key = task.key
    framework = fw.get(key.framework)
    fw.set_threads(task.threads, [framework])
    history: list[records.Epoch] = []
    fields: dict[str, Any] = {
        "experiment": key.experiment,
        "variant": key.variant,
        "framework": key.framework,
        "device": key.device,
        "backend_device": task.backend_device,
        "seed": key.seed,
        "conventions": key.conventions,
        "hint": None,
        "started": now(),
        "worker": worker(task.threads, framework),
    }

    def progress(record: Any) -> None:
        history.append(epoch_record(record))
        if should_stop is not None and should_stop():
            raise StopRequested

    weights = None
    try:
        dataset = data_module.prepare(task.data)
        model, metrics, predictions = _train(task, framework, dataset, layers, progress)
        run = records.Run(
            **fields,
            status="ok",
            reason=None,
            metrics=metrics,
            history=history,
            test_predictions=predictions,
        )
        weights = _weight_bytes(model)
    except (StopRequested, KeyboardInterrupt):
        run = _ended(fields, history, "interrupted", "stopped by the user (Ctrl-C)")
    except SpecError as exc:  # the spec pins something the framework has no built-in for
        run = _ended(fields, history, "not_run", str(exc))
    except DivergenceError as exc:
        run = _ended(fields, history, "diverged", str(exc))
        run.divergence = records.Divergence(epoch=exc.epoch, step=exc.step, lr=exc.lr)
    except Exception as exc:
        run = _ended(fields, history, "failed", f"{type(exc).__name__}: {exc}")
    return TrainOutcome(run, weights)


def _ended(
    fields: dict[str, Any], history: list[records.Epoch], status: str, reason: str
) -> records.Run:
    return records.Run.model_validate(
        {**fields, "status": status, "reason": reason, "metrics": None, "history": history}
    )


def _train(
    task: TrainTask,
    framework: fw.Framework,
    dataset: data_module.Dataset,
    layers: list[Layer] | None,
    progress: Callable[[Any], None],
) -> tuple[Any, records.Metrics, str]:
    """Train one run: its model, metrics and predicted test digits."""
    spec = task.spec
    x, labels = dataset.train
    start, cpu_start = time.perf_counter(), time.process_time()
    model, history = framework.module.train(
        spec,
        x,
        labels,
        test=dataset.test,
        validation=dataset.validation,
        layers=layers,
        progress=progress,
        device=task.backend_device,
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
    test_proba = model.predict_proba(dataset.test[0])
    metrics = run_metrics(
        history=[epoch_record(r) for r in history.records],
        train_accuracy=float(evaluate(model.predict_proba(x[:n_eval]), labels[:n_eval]).accuracy),
        evaluation=evaluate(test_proba, dataset.test[1]),
        parameters=sum(w.size + (0 if b is None else b.size) for w, b in model.layers()),
        steps_per_epoch=len(steps),
        wall_seconds=wall,
        cpu_seconds=cpu,
    )
    return model, metrics, encode_predictions(np.argmax(test_proba, axis=1))


def _weight_bytes(model: Any) -> bytes:
    """The model as its backend saves it, in the shared weight format."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "weights.safetensors"
        model.save(path)
        return path.read_bytes()


def equivalence(task: EquivalenceTask) -> records.Equivalence:
    """The lockstep equivalence of the task's variant, measured where the task runs."""
    frameworks = [fw.get(name) for name in task.frameworks]
    fw.set_threads(task.threads, frameworks)
    train_data = data_module.prepare(task.data).train
    return run_equivalence(
        task.variant, train_data, list(zip(frameworks, task.devices, strict=True)), task.steps
    )


def defaults_weights(task: DefaultsTask) -> records.DefaultsWeights:
    """The defaults study's measurement on the weights, where the task runs."""
    fw.set_threads(task.threads, [fw.get("numpy")])
    return defaults_study.measure(task.experiment, data_module.prepare(task.experiment.data).train)


def execute(
    task: TrainTask | EquivalenceTask | DefaultsTask,
    layers: list[Layer] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainOutcome | records.Equivalence | records.DefaultsWeights:
    """Run any task to its outcome; what executors call, here or on a worker."""
    if isinstance(task, TrainTask):
        return train(task, layers, should_stop)
    if isinstance(task, EquivalenceTask):
        return equivalence(task)
    return defaults_weights(task)
