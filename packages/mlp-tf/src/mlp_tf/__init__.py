"""The mlp-numpy reference network in Keras: a `Sequential` of `Dense` layers, Keras's
optimizers and losses, trained by `model.fit` on XLA.

import mlp_tf
from mlp_numpy.spec import ModelSpec, Network

spec = ModelSpec(Network(layers=(784, 128, 10)))
model, history = mlp_tf.train(spec, x, labels, test=(x_test, labels_test))
model.keras_model.fit(x, keras.utils.to_categorical(labels))  # train on, the Keras way
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
from .engine import STEPS_PER_EXECUTION, TFEngine
from .model import Model, load
from .optimizers import ConventionError

__version__ = "0.1.0"

__all__ = ["ConventionError", "Model", "TFEngine", "devices", "load", "make_engine", "train"]


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str = "auto",
    deterministic: bool = False,
    jit_compile: bool = True,
    steps_per_execution: int = STEPS_PER_EXECUTION,
) -> TFEngine:
    """An engine holding the training data (cast to the spec's dtype) and the compiled Keras
    model on `device` ("auto", "cpu" or "gpu"), starting from `layers` or, when None, from
    `mlp_numpy.initializers.initial_layers(spec)`.

    `deterministic=True` switches on TensorFlow's op determinism for the whole process
    (under which Keras compiles models without XLA).
    `jit_compile` and `steps_per_execution` go to `model.compile`: XLA (the default) fuses
    each step into a few kernels, and each call into the compiled function runs up to
    `steps_per_execution` steps. Raises `ConventionError` for an optimizer convention Keras
    cannot express (mlp_tf.optimizers). The device used is `engine.device`.
    """
    return TFEngine(
        spec,
        x,
        labels,
        layers=layers,
        device=device,
        deterministic=deterministic,
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
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

    The epoch loop is `mlp_numpy.training.fit`, shared by every backend (the schedule, early
    stopping with the best weights restored, the divergence check); each epoch is one
    `model.fit`. The model holds the compiled `keras.Model` it trained (`keras_model`), on
    the device the engine used.
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
    return (
        Model(
            spec.network,
            engine.get_layers(),
            spec,
            device=engine.device,
            keras_model=engine.model,
        ),
        history,
    )
