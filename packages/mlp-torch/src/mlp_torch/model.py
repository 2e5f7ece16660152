"""A trained network: predict, and save or load it in the shared weight format.

The weight format stores `W` as (out_features, in_features), which is already the
orientation of `torch.nn.Linear.weight`, so loading and saving copy arrays as they are.
`save_state_dict` also writes PyTorch's own format, which plain PyTorch code reads with
`torch.load(path, weights_only=True)` into `MLP(network).load_state_dict(...)`.

A model from `train` holds the `nn.Module` and the `torch.optim.Optimizer` it trained
with (`module`, `optimizer`), so training can go on in plain PyTorch.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from mlp_numpy import Layer
from mlp_numpy.files import atomic_path
from mlp_numpy.inputs import check_inputs
from mlp_numpy.model import TrainedModel
from mlp_numpy.preprocessing import prepare_inputs
from mlp_numpy.spec import ModelSpec, Network
from mlp_numpy.training import EpochRecord, History, fit
from mlp_numpy.weights import load_weights

from . import __version__
from .devices import check_dtype, resolve_device
from .engine import DTYPES, make_engine
from .network import MLP, load_layers, module_layers


class Model(TrainedModel):
    """An `MLP` on a device, with NumPy in and out.

    `module` is the `nn.Module`; `optimizer` is the `torch.optim.Optimizer` that trained
    it, with its state (None for a model loaded from a file). `preprocessing` (read from
    version 2 files) is applied to raw uint8 images.
    """

    producer = f"mlp-torch {__version__}"

    def __init__(
        self,
        network: Network,
        layers: list[Layer],
        *,
        spec: ModelSpec | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        dtype = np.asarray(layers[0].weight).dtype if layers else np.dtype("float32")
        if dtype.name not in DTYPES:
            raise ValueError(f"layers: weights must be float32 or float64, got {dtype}")
        self.network = network
        self.spec = spec
        self.device = resolve_device(device)
        check_dtype(self.device, DTYPES[dtype.name])
        self.module = MLP(network, dtype=DTYPES[dtype.name], device=self.device)
        load_layers(self.module, layers)
        self.optimizer: torch.optim.Optimizer | None = None

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for inputs x of shape (N, features) or raw uint8 images."""
        x = check_inputs(prepare_inputs(x, self.preprocessing), self.network.layers[0])
        weight = next(self.module.parameters())
        with torch.inference_mode():
            inputs = torch.as_tensor(x).to(device=self.device, dtype=weight.dtype)
            return self.module.probabilities(inputs).cpu().numpy()

    def layers(self) -> list[Layer]:
        """The parameters as NumPy arrays, weights (out_features, in_features)."""
        return module_layers(self.module)

    def save_state_dict(self, path: str | os.PathLike[str]) -> None:
        """Write `module.state_dict()` (on the CPU) with `torch.save`, atomically."""
        state = {name: tensor.cpu() for name, tensor in self.module.state_dict().items()}
        with atomic_path(path) as temporary:
            torch.save(state, temporary)


def load(path: str | os.PathLike[str], *, device: str | torch.device = "auto") -> Model:
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
    device: str | torch.device = "auto",
) -> tuple[Model, History]:
    """Train `spec` on (x, labels) with the shared epoch loop; the model and its history.

    The model holds the engine's own module and optimizer, not copies."""
    engine = make_engine(spec, x, labels, layers=layers, device=device)
    history = fit(
        engine, spec, train=(x, labels), test=test, validation=validation, progress=progress
    )
    model = Model(spec.network, engine.get_layers(), spec=spec, device=engine.device)
    model.module, model.optimizer = engine.module, engine.optimizer
    return model, history
