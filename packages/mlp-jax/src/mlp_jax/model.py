"""A trained network: predict, and save or load it in the shared weight format.

The weight format stores `W` as (out_features, in_features); a Flax `nnx.Linear` kernel is
(in_features, out_features), so loading and saving transpose it (`network.load_layers`,
`network.module_layers`).

A model from `train` holds the `nnx.Module` and the `nnx.Optimizer` it trained with
(`module`, `optimizer`; `optimizer.step` is the number of steps taken), so training can go
on in plain Flax.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import jax
import numpy as np
from flax import nnx

from mlp_numpy import Layer
from mlp_numpy.inputs import check_inputs
from mlp_numpy.model import TrainedModel
from mlp_numpy.preprocessing import prepare_inputs
from mlp_numpy.spec import ModelSpec, Network
from mlp_numpy.training import EpochRecord, History, fit
from mlp_numpy.weights import load_weights

from . import __version__
from .devices import precision, resolve_device, training_dtype
from .engine import make_engine
from .network import MLP, load_layers, module_layers, probabilities


class Model(TrainedModel):
    """An `MLP` on a device, with NumPy in and out.

    `module` is the `nnx.Module`; `optimizer` is the `nnx.Optimizer` that trained it, with
    its Optax state and step count (None for a model loaded from a file).
    `preprocessing` (read from version 2 files) is applied to raw uint8 images. Its matrix
    products are full float32 unless the spec allows TF32 (`training.tf32`).
    """

    producer = f"mlp-jax {__version__}"

    def __init__(
        self,
        network: Network,
        layers: list[Layer],
        *,
        spec: ModelSpec | None = None,
        device: str = "auto",
    ) -> None:
        dtype = np.asarray(layers[0].weight).dtype if layers else np.dtype("float32")
        if dtype.name not in ("float32", "float64"):
            raise ValueError(f"layers: weights must be float32 or float64, got {dtype}")
        self.network = network
        self.spec = spec
        self.device = resolve_device(device)
        tf32 = spec is not None and spec.training.tf32
        with jax.default_device(self.device):
            self.module = MLP(
                network,
                rngs=nnx.Rngs(0),
                param_dtype=training_dtype(dtype.name),
                precision=precision(tf32),
            )
        load_layers(self.module, layers)
        self.optimizer: nnx.Optimizer | None = None

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for inputs x of shape (N, features) or raw uint8 images."""
        x = check_inputs(prepare_inputs(x, self.preprocessing), self.network.layers[0])
        dtype = self.module.linears[0].kernel[...].dtype
        inputs = jax.device_put(np.asarray(x, dtype=dtype), self.device)
        return np.asarray(probabilities(self.module, inputs))

    def layers(self) -> list[Layer]:
        """The parameters as NumPy arrays, weights (out_features, in_features)."""
        return module_layers(self.module)


def load(path: str | os.PathLike[str], *, device: str = "auto") -> Model:
    """A `Model` from a file in the shared weight format."""
    weights = load_weights(path)
    model = Model(weights.network, weights.layers, spec=weights.spec, device=device)
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
    scan: bool | None = None,
) -> tuple[Model, History]:
    """Train `spec` on (x, labels) with the shared epoch loop; the model and its history.

    The model holds the engine's own module and optimizer, not copies."""
    engine = make_engine(spec, x, labels, layers=layers, device=device, scan=scan)
    history = fit(
        engine, spec, train=(x, labels), test=test, validation=validation, progress=progress
    )
    model = Model(spec.network, engine.get_layers(), spec=spec, device=str(device))
    model.module, model.optimizer = engine.module, engine.optimizer
    return model, history
