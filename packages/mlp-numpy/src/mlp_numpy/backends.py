"""Backends: the packages that train the spec's network, found through entry points.

A backend package registers its `backend` module in the entry-point group
`mlp_numpy.backends`, under its name, in its pyproject.toml:

    [project.entry-points."mlp_numpy.backends"]
    torch = "mlp_torch.backend"

That module implements `Backend`: the training API every backend shares (`make_engine`,
`train`, `load`, `devices`) and what a comparison needs to know of the framework behind it
(threads, its GPU, its defaults, and the loops a benchmark times). Code that compares
backends (mlp-compare, the conformance tests) finds them with `discover()` and never
imports a framework itself; a new backend appears once it is installed.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .layer import Layer
from .spec import ModelSpec
from .training import Engine, EpochRecord, History

GROUP = "mlp_numpy.backends"


@dataclass(frozen=True)
class DefaultReading:
    """One default of a framework as the installed version defines it (`mlp-compare
    defaults`): its value (or, where the default is a formula in the framework's code,
    a description of it) and where it was read."""

    value: Any
    source: str


class TrainedModel(Protocol):
    """A trained network, as every backend's `model.Model` is."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def layers(self) -> list[Layer]: ...

    def save(self, path: Any) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """What a backend's `backend` module provides.

    Devices are the backend's own names ("cpu", "cuda", "gpu", ...); `make_engine`,
    `train` and `load` accept them and "auto". `installed_defaults` keys are the names of
    `mlp_numpy.defaults` fields' rows ("init", "eps", ...), read from the installed
    framework. The two benchmark loops return seconds per epoch of `epochs` timed epochs
    on `device`: `products_epoch` the matrix products of a training epoch alone (forward
    and backward of a network of `sizes` on n samples at `batch_size`), `tutorial_epoch`
    the training loop the framework's own tutorials write (no shared spec or batches).
    `labels` are what the spec's `network.task` takes: class indices, 0/1 labels or target
    values (docs/model-spec.md#tasks, `mlp_numpy.inputs.check_targets`).
    """

    NAME: str  # the backend's name, as in the entry point and conventions.BUILT_INS
    DISPLAY_NAME: str  # the framework as people write it: "PyTorch"
    DISTRIBUTION: str  # the backend package: "mlp-torch"
    DEFAULTS_SET: str | None  # its row in mlp_numpy.defaults.DEFAULTS, if it has one

    def framework_version(self) -> str: ...

    def devices(self) -> list[str]: ...

    def make_engine(
        self,
        spec: ModelSpec,
        x: np.ndarray,
        labels: np.ndarray,
        *,
        layers: list[Layer] | None = None,
        device: str = "auto",
    ) -> Engine: ...

    def train(
        self,
        spec: ModelSpec,
        x: np.ndarray,
        labels: np.ndarray,
        *,
        test: tuple[np.ndarray, np.ndarray] | None = None,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        layers: list[Layer] | None = None,
        progress: Callable[[EpochRecord], None] | None = None,
        device: str = "auto",
    ) -> tuple[TrainedModel, History]: ...

    def load(self, path: Any, *, device: str = "auto") -> TrainedModel: ...

    def set_threads(self, threads: int) -> None: ...

    def thread_settings(self) -> dict[str, int | None]: ...

    def accelerator_name(self) -> str | None: ...

    def installed_defaults(self) -> dict[str, DefaultReading]: ...

    def products_epoch(
        self, sizes: list[int], n: int, batch_size: int, epochs: int, device: str
    ) -> float: ...

    def tutorial_epoch(
        self,
        sizes: list[int],
        x: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        epochs: int,
        device: str,
    ) -> float: ...


@dataclass(frozen=True)
class Registered:
    """A backend found through its entry point: its name and module path, and, once
    `load`ed, the module or why it did not import."""

    name: str
    module_name: str
    distribution: str | None


def discover() -> list[Registered]:
    """Every installed backend's entry point, NumPy first, then by name."""
    found = [
        Registered(point.name, point.value, point.dist.name if point.dist else None)
        for point in entry_points(group=GROUP)
    ]
    return sorted(found, key=lambda r: (r.name != "numpy", r.name))


def load(registered: Registered) -> ModuleType:
    """Import a discovered backend's module and check that it implements `Backend`;
    TypeError names the missing parts."""
    module = importlib.import_module(registered.module_name)
    if not isinstance(module, Backend):
        missing = [name for name in _members() if not hasattr(module, name)]
        raise TypeError(
            f"{registered.module_name} (backend {registered.name!r}) does not implement "
            f"mlp_numpy.backends.Backend: missing {', '.join(missing)}"
        )
    return module


def _members() -> list[str]:
    return sorted(
        name for name in (*Backend.__annotations__, *vars(Backend)) if not name.startswith("_")
    )


def seconds_per_epoch(run_epoch: Callable[[int], None], epochs: int) -> float:
    """Seconds per epoch of `run_epoch(epoch)`: one warm-up epoch (epoch 0), then the mean
    of `epochs` timed ones (epochs 1 … epochs). For the backends' benchmark loops."""
    run_epoch(0)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        run_epoch(epoch)
    return (time.perf_counter() - start) / epochs
