"""`Model`: a trained network that predicts, saves and loads; `train` makes one, `load`
reads one from a weight file written by any backend. `TrainedModel` is what every
backend's `Model` shares."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from . import __version__
from .devices import check_device
from .engine import make_engine
from .inputs import check_inputs
from .layer import Layer
from .metrics import predicted
from .network import MLP
from .preprocessing import Preprocessing, prepare_inputs
from .spec import Loss, ModelSpec, Network
from .threads import training_threads
from .training import EpochRecord, History, fit
from .weights import load_weights, save_weights


class TrainedModel:
    """What every backend's trained `Model` shares: `predict` from its `predict_proba`, and
    `save` of its `layers()` in the shared weight format. A backend's model defines those
    two, sets `network` and `spec`, and names itself in `producer` ("mlp-torch 0.1.0")."""

    producer: ClassVar[str]
    network: Network
    spec: ModelSpec | None
    preprocessing: Preprocessing | None = None

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def layers(self) -> list[Layer]:
        raise NotImplementedError

    def predict(self, x: np.ndarray) -> np.ndarray:
        """One prediction per row (`mlp_numpy.metrics.predicted`): the class with the
        largest output; for a binary classifier 1 where P(class 1) > 0.5, else 0; for
        regression the values, (N,) for one output and (N, K) for several."""
        return predicted(self.predict_proba(x), self.network.task)

    def save(
        self, path: str | os.PathLike[str], *, preprocessing: Preprocessing | None = None
    ) -> None:
        """Write the weights (and the spec, if known) to a weight file, atomically, with
        `preprocessing` (default: the model's own), the inputs' preparation in training."""
        save_weights(
            path,
            self.layers(),
            self.network,
            producer=self.producer,
            spec=self.spec,
            preprocessing=preprocessing or self.preprocessing,
        )


class Model(TrainedModel):
    """A network and its parameters, for prediction and saving.

    `spec` (optional) is the full model spec it was trained with; it is stored in
    saved files beside the network. `preprocessing` (optional, read from version 2
    files) is how raw uint8 images become inputs; `predict` applies it to them.
    """

    producer = f"mlp-numpy {__version__}"

    def __init__(self, network: Network, layers: list[Layer], spec: ModelSpec | None = None):
        dtype = layers[0].weight.dtype
        self.network = network
        self.spec = spec
        self._net = MLP(network, spec.loss if spec else _any_loss(network), dtype)
        self._net.params.assign(layers)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs a, (N, K), for the rows of x: class probabilities for a
        classifier (softmax or K sigmoids), P(class 1) in one column for a binary one, the
        predicted values for regression. Raw uint8 images get the model's preprocessing
        (`mlp_numpy.preprocessing`); NaN or infinite inputs are refused."""
        x = prepare_inputs(x, self.preprocessing)
        return self._net.predict_proba(check_inputs(x, self.network.layers[0]))

    def layers(self) -> list[Layer]:
        """Copies of the parameters, in the weight-format orientation (out, in)."""
        return self._net.params.layers()


def _any_loss(network: Network) -> Loss:
    """A loss that fits the output layer; prediction never evaluates it."""
    return Loss({"softmax": "cross_entropy", "sigmoid": "bce"}.get(network.output, "mse"))


def load(path: str | os.PathLike[str], *, device: str = "auto") -> Model:
    """A `Model` from a weight file written by any backend (`device`: "auto" or "cpu")."""
    check_device(device)
    weights = load_weights(path)
    model = Model(weights.network, weights.layers, weights.spec)
    model.preprocessing = weights.preprocessing
    return model


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
) -> tuple[Model, History]:
    """Train a network on (x, labels) as `spec` says; return the model and its history.

    x: (N, features) real numbers. labels, by `spec.network.task`: class indices 0 … K−1
    ("classification"), 0 or 1 ("binary"), or real target values, (N,) or (N, K)
    ("regression"). `test` and `validation` are pairs of the same kinds, checked before
    the first epoch (`mlp_numpy.inputs`).

    NumPy's matrix products run on `threads` BLAS threads; by default on the count set
    by `set_blas_threads`, or on one (`mlp_numpy.threads.DEFAULT_THREADS`, see there).
    """
    with threadpool_limits(limits=training_threads(threads), user_api="blas"):
        engine = make_engine(spec, x, labels, layers=layers, device=device)
        history = fit(
            engine, spec, train=(x, labels), test=test, validation=validation, progress=progress
        )
    return Model(spec.network, engine.get_layers(), spec), history
