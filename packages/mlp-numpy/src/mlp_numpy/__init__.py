"""A multilayer perceptron written from scratch in NumPy: the reference model, spec and weights.

import mlp_numpy
from mlp_numpy.spec import ModelSpec, Network

spec = ModelSpec(Network(layers=(784, 128, 10)))
model, history = mlp_numpy.train(spec, x, labels, test=(x_test, labels_test))
model.save("mnist.safetensors")
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from .engine import NumpyEngine
from .layer import Layer
from .model import MLP, load
from .spec import ModelSpec
from .threads import blas_threads, set_blas_threads, training_threads
from .training import EpochRecord, History, fit

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "Layer",
    "ModelSpec",
    "NumpyEngine",
    "blas_threads",
    "devices",
    "load",
    "make_engine",
    "set_blas_threads",
    "train",
]


def devices() -> list[str]:
    """The devices this backend can use now: always the CPU."""
    return ["cpu"]


def _check_device(device: str) -> None:
    if device not in ("auto", *devices()):
        raise ValueError(
            f"device {device!r} is not available; available: {', '.join(['auto', *devices()])}"
        )


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str = "auto",
) -> NumpyEngine:
    """An engine holding the training data (cast to the spec's dtype) and the network,
    starting from `layers` or, when None, from `init.initial_layers(spec)`."""
    _check_device(device)
    return NumpyEngine(spec, x, labels, layers)


def train(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    layers: list[Layer] | None = None,
    progress: Callable[[EpochRecord], None] | None = None,
    device: str = "auto",
    threads: int | None = None,
) -> tuple[MLP, History]:
    """Train a network on (x, labels) as `spec` says; return the model and its history.

    NumPy's matrix products run on `threads` BLAS threads; by default on the count set
    by `set_blas_threads`, or on one (`mlp_numpy.threads.DEFAULT_THREADS`, see there).
    """
    with threadpool_limits(limits=training_threads(threads), user_api="blas"):
        engine = make_engine(spec, x, labels, layers=layers, device=device)
        history = fit(
            engine, spec, train=(x, labels), test=test, validation=validation, progress=progress
        )
    return MLP(spec.network, engine.get_layers(), spec), history
