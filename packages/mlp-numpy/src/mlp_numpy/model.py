"""`MLP`: a trained network that predicts, saves and loads."""

from __future__ import annotations

import os

import numpy as np

from .backprop import Backprop
from .inputs import check_inputs
from .layer import Layer
from .preprocessing import Preprocessing, prepare_inputs
from .spec import Loss, ModelSpec, Network
from .weights import load_weights, save_weights


class MLP:
    """A network and its parameters, for prediction and saving.

    `spec` (optional) is the full model spec it was trained with; it is stored in
    saved files beside the network. `preprocessing` (optional, read from version 2
    files) is how raw uint8 images become inputs; `predict` applies it to them.
    """

    preprocessing: Preprocessing | None = None

    def __init__(self, network: Network, layers: list[Layer], spec: ModelSpec | None = None):
        dtype = layers[0].weight.dtype
        self.network = network
        self.spec = spec
        self._net = Backprop(network, spec.loss if spec else _any_loss(network), dtype)
        self._net.params.assign(layers)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for the rows of x (probabilities for softmax/sigmoid);
        raw uint8 images get the model's preprocessing (`mlp_numpy.preprocessing`)."""
        x = prepare_inputs(x, self.preprocessing)
        return self._net.predict_proba(check_inputs(x, self.network.layers[0]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class with the largest output, per row."""
        return self.predict_proba(x).argmax(axis=1)

    def layers(self) -> list[Layer]:
        """Copies of the parameters, in the weight-format orientation (out, in)."""
        return self._net.params.layers()

    def save(
        self, path: str | os.PathLike[str], *, preprocessing: Preprocessing | None = None
    ) -> None:
        """Write the weights (and the spec, if known) to a weight file, atomically, with
        `preprocessing` (default: the model's own), the inputs' preparation in training."""
        from . import __version__

        save_weights(
            path,
            self.layers(),
            self.network,
            producer=f"mlp-numpy {__version__}",
            spec=self.spec,
            preprocessing=preprocessing or self.preprocessing,
        )


def _any_loss(network: Network) -> Loss:
    """A loss that fits the output layer; prediction never evaluates it."""
    return Loss({"softmax": "cross_entropy", "sigmoid": "bce"}.get(network.output, "mse"))


def load(path: str | os.PathLike[str]) -> MLP:
    """An `MLP` from a weight file written by any backend."""
    weights = load_weights(path)
    model = MLP(weights.network, weights.layers, weights.spec)
    model.preprocessing = weights.preprocessing
    return model
