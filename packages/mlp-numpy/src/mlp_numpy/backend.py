"""mlp-numpy as a backend (`mlp_numpy.backends.Backend`), registered under "numpy"."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np

from .backends import DefaultReading, products_epoch_of, seconds_per_epoch
from .batches import epoch_batches
from .devices import check_device, devices
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
    "products_steps",
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
    """Seconds per epoch of the matrix products of a training epoch alone
    (`products_steps`), on n samples at `batch_size`."""
    full, rest = divmod(n, batch_size)
    last = products_steps(sizes, rest, device) if rest else None
    return products_epoch_of(products_steps(sizes, batch_size, device), last, full, epochs)


def products_steps(sizes: list[int], batch_size: int, device: str) -> Callable[[int], None]:
    """`run(steps)`: the matrix products of `steps` training steps alone, in float32, as the
    engine computes them (network.py: `np.dot`, each weight stored as W_lᵀ, row-major):
    per step and layer l the forward h_{l−1} W_lᵀ, the weight gradient (∂L/∂W_l)ᵀ =
    h_{l−1}ᵀ δ_l and (below the top layer) δ_l W_l."""
    check_device(device)
    rng = np.random.default_rng(0)
    transposed = [rng.standard_normal((i, o), dtype=np.float32) for i, o in pairwise(sizes)]
    grads = [np.empty_like(w) for w in transposed]
    acts = [rng.standard_normal((batch_size, s), dtype=np.float32) for s in sizes]
    deltas = [np.empty((batch_size, s), dtype=np.float32) for s in sizes]

    def run(steps: int) -> None:
        for _ in range(steps):
            for layer, w_t in enumerate(transposed):
                np.dot(acts[layer], w_t, out=acts[layer + 1])
            for layer in range(len(transposed) - 1, -1, -1):
                np.dot(acts[layer].T, acts[layer + 1], out=grads[layer])
                if layer:
                    np.dot(acts[layer + 1], transposed[layer].T, out=deltas[layer])

    return run


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
