"""What a run records: one entry per framework × device × variant, the environment, atomic writes.

A run folder holds `results.json`, the single source of truth; the CSV, the plots and
`report.md` are rendered from it (`mlp-compare report DIR` renders them again). The file is
rewritten atomically after every training run, so an interrupted run leaves a valid file that
holds what finished.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from mlp_compare.frameworks import Framework
from mlp_numpy import backend as reference_backend
from mlp_numpy.files import write_atomic

SCHEMA_NAME = "mlp-compare/results"
SCHEMA_VERSION = 2  # 2 adds each run's seed, divergence and test predictions, and best weights
# The packages every run has; the backends' packages and their frameworks' versions are
# added from the frameworks found (mlp_compare.frameworks).
DISTRIBUTIONS = ("mlp-compare", "mnist-data", "mlp-numpy", "numpy", "matplotlib")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_results(run_id: str, command: str, frameworks: list[Framework]) -> dict[str, Any]:
    """An empty results document for a run that is about to start."""
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "command": command,
        "started": now(),
        "finished": None,
        "status": "running",
        "environment": environment(frameworks),
        "experiments": [],
    }


def environment(frameworks: list[Framework]) -> dict[str, Any]:
    """Versions, CPU, threads and GPU: what a reader needs to judge the timings."""
    versions: dict[str, str | None] = {}
    for name in (*DISTRIBUTIONS, *(fw.distribution for fw in frameworks)):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    # Each framework's own version under the backend's name ("torch", "tf", ...).
    versions.update({fw.name: fw.version() for fw in frameworks if fw.available})
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count() or 0,
        "threads": _threads(frameworks),
        "gpu": gpu_name(frameworks),
        "packages": versions,
        "frameworks": {
            fw.name: {"available": fw.available, "devices": fw.backend_devices(), "error": fw.error}
            for fw in frameworks
        },
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _threads(frameworks: list[Framework]) -> dict[str, Any]:
    """The thread variables of the environment, the reference's BLAS threads and each
    installed framework's thread settings (`<framework>_<setting>`)."""
    threads: dict[str, Any] = {
        var: os.environ.get(var)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    settings = {"numpy": reference_backend.thread_settings()}  # the reference always runs
    settings.update({fw.name: fw.module.thread_settings() for fw in frameworks if fw.available})
    for name, values in settings.items():
        threads.update({f"{name}_{key}": value for key, value in values.items()})
    return threads


def gpu_name(frameworks: list[Framework]) -> str | None:
    """The first GPU any installed framework sees, by name; None without one."""
    for framework in frameworks:
        if framework.available and (name := framework.module.accelerator_name()):
            return name
    return None


def run_metrics(
    *,
    history: list[dict[str, Any]],
    train_accuracy: float,
    evaluation: Any,
    parameters: int,
    steps_per_epoch: int,
    wall_seconds: float,
    cpu_seconds: float,
) -> dict[str, Any]:
    """Every figure of one finished training run, from its history and final evaluation.

    `seconds_training` sums the epochs' training time (evaluation excluded); `seconds_wall`
    is the whole `train` call; `cpu_seconds` is the CPU time of this process over that call,
    every thread counted, which other programs on a shared machine do not inflate.
    """
    epochs = len(history)
    seconds = float(sum(r["seconds"] for r in history))
    tests = [r["test_accuracy"] for r in history if r["test_accuracy"] is not None]
    trains = [r["train_accuracy"] for r in history if r["train_accuracy"] is not None]
    test_accuracy = float(evaluation.accuracy)
    return {
        "final_train_accuracy": float(train_accuracy),
        "final_test_accuracy": test_accuracy,
        "best_train_accuracy": float(max(trains)) if trains else None,
        "best_test_accuracy": float(max(tests)) if tests else None,
        "best_test_epoch": int(np.argmax(tests)) + 1 if tests else None,
        "generalization_gap": float(train_accuracy) - test_accuracy,
        "final_loss": float(history[-1]["loss"]) if history else None,
        "epochs": epochs,
        "steps": epochs * steps_per_epoch,
        "seconds_training": seconds,
        "seconds_wall": float(wall_seconds),
        "cpu_seconds": float(cpu_seconds),
        "seconds_per_epoch": seconds / epochs if epochs else None,
        "steps_per_second": epochs * steps_per_epoch / seconds if seconds > 0 else None,
        "parameters": int(parameters),
        "per_class_accuracy": [_finite_or_none(v) for v in evaluation.per_class],
        "confusion_matrix": np.asarray(evaluation.confusion).astype(int).tolist(),
    }


def encode_predictions(predicted: np.ndarray) -> str:
    """Predicted digits of the test images as one string, "7210…": 1 byte per image in JSON."""
    return "".join(map(str, np.asarray(predicted, dtype=np.int64).tolist()))


def decode_predictions(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")


def _finite_or_none(value: float) -> float | None:
    """NaN (a class absent from the test set) becomes null: JSON has no NaN."""
    return float(value) if np.isfinite(value) else None


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write JSON atomically: a temporary file in the same folder, then os.replace."""
    write_text(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` atomically (`mlp_numpy.files.write_atomic`), creating the folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def read_results(path: Path) -> dict[str, Any]:
    """Load a results.json (or the one inside a run folder) and check it against the schema."""
    from mlp_compare.schema import validate

    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results.json here")
    document = json.loads(path.read_text(encoding="utf-8"))
    validate(document)
    return document
