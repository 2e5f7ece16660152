"""A multilayer perceptron written from scratch in NumPy: the reference model, spec and weights.

import mlp_numpy
from mlp_numpy.spec import ModelSpec, Network

spec = ModelSpec(Network(layers=(784, 128, 10)))
model, history = mlp_numpy.train(spec, x, labels, test=(x_test, labels_test))
model.save("mnist.safetensors")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .conventions import ConventionError
from .devices import devices
from .engine import NumpyEngine, make_engine
from .gradcheck import check_gradients
from .layer import Layer
from .model import Model, load, train
from .spec import ModelSpec
from .threads import blas_threads, set_blas_threads

__all__ = [
    "ConventionError",
    "Layer",
    "Model",
    "ModelSpec",
    "NumpyEngine",
    "blas_threads",
    "check_gradients",
    "devices",
    "load",
    "make_engine",
    "set_blas_threads",
    "train",
]
