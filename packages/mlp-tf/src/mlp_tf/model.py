"""`Model`: a trained network as a Keras `Sequential` of `Dense` layers (`network.MLP`),
which predicts, saves in the shared weight format and exports itself as a native Keras
model; `train` makes one, `load` reads one from a weight file written by any backend.
"""

import os
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlp_numpy import Layer
from mlp_numpy.files import atomic_path
from mlp_numpy.inputs import check_inputs
from mlp_numpy.layer import check_layers
from mlp_numpy.model import TrainedModel
from mlp_numpy.preprocessing import prepare_inputs
from mlp_numpy.spec import ModelSpec, Network
from mlp_numpy.training import EpochRecord, History, fit
from mlp_numpy.weights import load_weights

from . import __version__
from .activations import output_activation
from .devices import resolve_device
from .engine import make_engine
from .losses import from_logits
from .network import MLP, dense_layers


class Model(TrainedModel):
    """A network and its parameters on one TensorFlow device (`device`: "cpu" or "gpu").

    `keras_model` is the Keras model itself. A model from `mlp_tf.train` holds the compiled
    model it trained (its optimizer's `iterations` count the steps taken): call its `fit`
    to train on, or its `export` for serving. It outputs the logits when the spec's loss
    takes them (cross-entropy, bce); `predict_proba` applies the output activation.
    A model from `load` (or built from `layers`) is an uncompiled `Sequential` ending in
    the output activation. `spec` (optional) is the full model spec, stored in saved files
    beside the network.
    The dtype is the one of `layers` (float32 or float64). `preprocessing` (read from
    version 2 files) is applied to raw uint8 images.
    """

    producer = f"mlp-tf {__version__}"

    def __init__(
        self,
        network: Network,
        layers: list[Layer],
        spec: ModelSpec | None = None,
        *,
        device: str = "auto",
        keras_model: keras.Model | None = None,
    ) -> None:
        check_layers(network, layers)
        self.network = network
        self.spec = spec
        self.device, self.tf_device = resolve_device(device)
        dtype = tf.as_dtype(np.asarray(layers[0].weight).dtype)
        if dtype not in (tf.float32, tf.float64):
            raise ValueError(f"layers: weights must be float32 or float64, got {dtype.name}")
        self.dtype = dtype
        logits = keras_model is not None and spec is not None and from_logits(spec.loss)
        if keras_model is None:
            with tf.device(self.tf_device):
                keras_model = MLP(network, layers, dtype.name)
        self.keras_model = keras_model
        output = output_activation(network.output) if logits else None
        self._forward = tf.function(
            lambda x: keras_model(x) if output is None else output(keras_model(x)),
            input_signature=[tf.TensorSpec([None, network.layers[0]], dtype)],
        )

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for the rows of x (probabilities for softmax/sigmoid);
        raw uint8 images get the model's preprocessing."""
        x = check_inputs(prepare_inputs(x, self.preprocessing), self.network.layers[0])
        with tf.device(self.tf_device):
            return self._forward(tf.constant(x.astype(self.dtype.as_numpy_dtype))).numpy()

    def layers(self) -> list[Layer]:
        """Copies of the parameters in the weight-format orientation: weights (out, in)."""
        return dense_layers(self.keras_model)

    def to_keras(self) -> keras.Model:
        """The network as a new Keras `Sequential` of `Dense` layers ending in the output
        activation, holding these weights (uncompiled)."""
        return MLP(self.network, self.layers(), self.dtype.name)

    def save_keras(self, path: str | os.PathLike[str]) -> None:
        """Write `to_keras()` as a native `.keras` file, atomically (load it with
        `keras.models.load_model`)."""
        path = Path(path)
        if path.suffix != ".keras":
            raise ValueError(f"path: a Keras model file must end in .keras, got {path.name!r}")
        with atomic_path(path) as temporary:
            self.to_keras().save(temporary)


def load(path: str | os.PathLike[str], *, device: str = "auto") -> Model:
    """A `Model` from a weight file written by any backend."""
    weights = load_weights(path)
    model = Model(weights.network, weights.layers, weights.spec, device=device)
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
    model = Model(
        spec.network, engine.get_layers(), spec, device=engine.device, keras_model=engine.model
    )
    return model, history
