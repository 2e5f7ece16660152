"""The mlp-numpy reference network in TensorFlow/Keras, trained with the same semantics.

import mlp_tf
from mlp_numpy.spec import ModelSpec, Network

spec = ModelSpec(Network(layers=(784, 128, 10)))
model, history = mlp_tf.train(spec, x, labels, test=(x_test, labels_test))
model.save("mnist.safetensors")        # the shared weight format
model.save_keras("mnist.keras")        # a native Keras model
"""

import os

# TensorFlow's C++ informational messages and warnings are noise here; errors still show.
# Set before TensorFlow is first imported; an explicit setting by the user wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable

import numpy as np

from mlp_numpy import Layer
from mlp_numpy.spec import ModelSpec
from mlp_numpy.training import EpochRecord, History, fit

from .devices import devices
from .engine import TFEngine
from .model import Model, load

__version__ = "0.1.0"

__all__ = ["Model", "TFEngine", "devices", "load", "make_engine", "train"]


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str = "auto",
    deterministic: bool = False,
    jit_compile: bool = True,
) -> TFEngine:
    """An engine holding the training data (cast to the spec's dtype) and the network on
    `device` ("auto", "cpu" or "gpu"), starting from `layers` or, when None, from
    `mlp_numpy.init.initial_layers(spec)`.

    `deterministic=True` switches on TensorFlow's op determinism for the whole process.
    `jit_compile=True` (the default) compiles the epoch loop with XLA, which removes most
    of TensorFlow's per-operation overhead; False runs it in TensorFlow's graph executor.
    The device used is `engine.device`.
    """
    return TFEngine(
        spec,
        x,
        labels,
        layers=layers,
        device=device,
        deterministic=deterministic,
        jit_compile=jit_compile,
    )


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
    deterministic: bool = False,
    jit_compile: bool = True,
) -> tuple[Model, History]:
    """Train a network on (x, labels) as `spec` says; return the model and its history.

    The epoch loop is `mlp_numpy.training.fit`, shared by every backend; the options are
    those of `make_engine`, and the model lives on the device the engine used.
    """
    engine = make_engine(
        spec,
        x,
        labels,
        layers=layers,
        device=device,
        deterministic=deterministic,
        jit_compile=jit_compile,
    )
    history = fit(
        engine, spec, train=(x, labels), test=test, validation=validation, progress=progress
    )
    return Model(spec.network, engine.get_layers(), spec, device=engine.device), history
