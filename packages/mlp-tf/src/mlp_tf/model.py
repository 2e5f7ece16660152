"""`Model`: a trained network in TensorFlow that predicts, saves in the shared weight format,
and exports itself as a native Keras model."""

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlp_numpy import Layer
from mlp_numpy.layer import check_layers
from mlp_numpy.preprocessing import Preprocessing, prepare_inputs
from mlp_numpy.spec import ModelSpec, Network
from mlp_numpy.weights import load_weights, save_weights

from .devices import resolve_device
from .network import forward


class Model:
    """A network and its parameters on one TensorFlow device (`device`: "cpu" or "gpu").

    `spec` (optional) is the full model spec it was trained with; it is stored in saved
    files beside the network. The dtype is the one of `layers` (float32 or float64).
    `preprocessing` (read from version 2 files) is applied to raw uint8 images.
    """

    preprocessing: Preprocessing | None = None

    def __init__(
        self,
        network: Network,
        layers: list[Layer],
        spec: ModelSpec | None = None,
        *,
        device: str = "auto",
    ) -> None:
        check_layers(network, layers)
        self.network = network
        self.spec = spec
        self.device, self.tf_device = resolve_device(device)
        dtype = tf.as_dtype(np.asarray(layers[0].weight).dtype)
        if dtype not in (tf.float32, tf.float64):
            raise ValueError(f"layers: weights must be float32 or float64, got {dtype.name}")
        self.dtype = dtype
        with tf.device(self.tf_device):
            self._kernels = [tf.constant(np.asarray(w, dtype.as_numpy_dtype).T) for w, _ in layers]
            self._biases = [
                None if b is None else tf.constant(np.asarray(b, dtype.as_numpy_dtype))
                for _, b in layers
            ]
        self._forward = tf.function(
            lambda x: forward(network, self._kernels, self._biases, x),
            input_signature=[tf.TensorSpec([None, network.layers[0]], dtype)],
        )

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for the rows of x (probabilities for softmax/sigmoid);
        raw uint8 images get the model's preprocessing."""
        x = prepare_inputs(x, self.preprocessing)
        if x.ndim != 2 or x.shape[1] != self.network.layers[0]:
            raise ValueError(f"x: expected shape (N, {self.network.layers[0]}), got {x.shape}")
        with tf.device(self.tf_device):
            return self._forward(tf.constant(x.astype(self.dtype.as_numpy_dtype))).numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class with the largest output, per row."""
        return self.predict_proba(x).argmax(axis=1)

    def layers(self) -> list[Layer]:
        """Copies of the parameters in the weight-format orientation: weights (out, in)."""
        return [
            Layer(k.numpy().T.copy(), None if b is None else b.numpy().copy())
            for k, b in zip(self._kernels, self._biases, strict=True)
        ]

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
            producer=f"mlp-tf {__version__}",
            spec=self.spec,
            preprocessing=preprocessing or self.preprocessing,
        )

    def to_keras(self) -> keras.Model:
        """The same network as a Keras `Sequential` of `Dense` layers holding these weights
        (a Dense kernel is the weight-format matrix transposed, (in, out))."""
        network, dtype = self.network, self.dtype.name
        hidden = {"leaky_relu": None}.get(network.hidden, network.hidden)
        output = {"identity": None}.get(network.output, network.output)
        model = keras.Sequential([keras.Input((network.layers[0],), dtype=dtype)])
        last = len(self._kernels) - 1
        for i, (weight, bias) in enumerate(self.layers()):
            dense = keras.layers.Dense(
                weight.shape[0],
                activation=output if i == last else hidden,
                use_bias=bias is not None,
                dtype=dtype,
            )
            model.add(dense)
            dense.set_weights([weight.T] if bias is None else [weight.T, bias])
            if i < last and network.hidden == "leaky_relu":
                model.add(keras.layers.LeakyReLU(negative_slope=network.leaky_slope, dtype=dtype))
        return model

    def save_keras(self, path: str | os.PathLike[str]) -> None:
        """Write `to_keras()` as a native `.keras` file, atomically (load it with
        `keras.models.load_model`)."""
        path = Path(path)
        if path.suffix != ".keras":
            raise ValueError(f"path: a Keras model file must end in .keras, got {path.name!r}")
        temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
        try:
            self.to_keras().save(temporary)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)


def load(path: str | os.PathLike[str], *, device: str = "auto") -> Model:
    """A `Model` from a weight file written by any backend."""
    weights = load_weights(path)
    model = Model(weights.network, weights.layers, weights.spec, device=device)
    model.preprocessing = weights.preprocessing
    return model
