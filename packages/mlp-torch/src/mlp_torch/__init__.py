"""The mlp-numpy reference network in PyTorch, trained by autograd and torch.optim.

import mlp_torch
from mlp_numpy.spec import ModelSpec, Network

spec = ModelSpec(Network(layers=(784, 128, 64, 10)))
model, history = mlp_torch.train(spec, x, labels, test=(x_test, labels_test))
model.save("mlp.safetensors")                # the shared weight format
mlp_torch.load("mlp.safetensors").predict(x_test)
"""

__version__ = "0.1.0"

from .devices import devices, resolve_device
from .engine import TorchEngine, make_engine
from .model import Model, load, train
from .network import MLP

__all__ = [
    "MLP",
    "Model",
    "TorchEngine",
    "devices",
    "load",
    "make_engine",
    "resolve_device",
    "train",
]
