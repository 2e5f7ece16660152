"""mlp-numpy as a backend (`mlp_numpy.backends.Backend`), registered under "numpy"."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from .backends import DefaultReading, seconds_per_epoch
from .batches import epoch_batches
from .devices import devices
from .engine import make_engine
from .initializers import initial_layers
from .inputs import one_hot
from .model import load, train
from .spec import ModelSpec, Network, Optimizer, Schedule, Training
from .threads import blas_threads, set_blas_threads
from .tutorial import TutorialLoop

NAME = "numpy"
DISPLAY_NAME = "NumPy"
DISTRIBUTION = "mlp-numpy"
DEFAULTS_SET = None  # the reference follows no framework's defaults: the spec's are its own

__all__ = [
    "DEFAULTS_SET",
    "DISPLAY_NAME",
    "DISTRIBUTION",
    "NAME",
    "accelerator_name",
    "devices",
    "framework_version",
    "installed_defaults",
    "load",
    "make_engine",
    "products_epoch",
    "set_threads",
    "thread_settings",
    "train",
    "tutorial_epoch",
]


def framework_version() -> str:
    return np.__version__


def set_threads(threads: int) -> None:
    """NumPy's matrix products on `threads` BLAS threads (`set_blas_threads`)."""
    set_blas_threads(threads)


def thread_settings() -> dict[str, int | None]:
    try:
        return {"blas": blas_threads()}
    except RuntimeError:  # a NumPy without a BLAS library threadpoolctl knows
        return {"blas": None}


def accelerator_name() -> str | None:
    return None


def installed_defaults() -> dict[str, DefaultReading]:
    """NumPy has no training defaults of its own: the reference's are the spec's."""
    return {}


def products_epoch(sizes: list[int], n: int, batch_size: int, epochs: int, device: str) -> float:
    """The matrix products of a training epoch alone: per step and layer l, the forward
    h_l = h_{l−1} W_lᵀ, the weight gradient δ_lᵀ h_{l−1} and (below the top layer) δ_l W_l."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((o, i), dtype=np.float32) for i, o in pairwise(sizes)]
    grads = [np.empty_like(w) for w in weights]
    acts = [rng.standard_normal((batch_size, s), dtype=np.float32) for s in sizes]
    deltas = [np.empty((batch_size, s), dtype=np.float32) for s in sizes]
    full, rest = divmod(n, batch_size)
    steps = [batch_size] * full + ([rest] if rest else [])

    def run_epoch(epoch: int) -> None:
        for b in steps:
            for layer, w in enumerate(weights):
                np.matmul(acts[layer][:b], w.T, out=acts[layer + 1][:b])
            for layer in range(len(weights) - 1, -1, -1):
                np.matmul(acts[layer + 1][:b].T, acts[layer][:b], out=grads[layer])
                if layer:
                    np.matmul(acts[layer + 1][:b], weights[layer], out=deltas[layer][:b])

    return seconds_per_epoch(run_epoch, epochs)


def tutorial_epoch(
    sizes: list[int],
    x: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    epochs: int,
    device: str,
) -> float:
    """An epoch of the from-scratch tutorial loop (`mlp_numpy.tutorial`), plain SGD."""
    lr = 0.01
    spec = ModelSpec(
        Network(layers=tuple(sizes)),
        training=Training(
            batch_size=batch_size, optimizer=Optimizer("sgd"), schedule=Schedule(lr=lr)
        ),
    )
    loop = TutorialLoop(
        np.asarray(x, np.float32), one_hot(labels, sizes[-1]), initial_layers(spec), lr
    )

    def run_epoch(epoch: int) -> None:
        loop(epoch_batches(len(x), batch_size, 0, epoch).order, batch_size)

    return seconds_per_epoch(run_epoch, epochs)
