"""The mlp-numpy reference network in JAX: Flax NNX modules, Optax optimizers and losses,
a jitted training step.

import mlp_jax
from mlp_numpy.spec import ModelSpec, Network

spec = ModelSpec(Network(layers=(784, 128, 64, 10)))
model, history = mlp_jax.train(spec, x, labels, test=(x_test, labels_test))
model.save("mlp.safetensors")                # the shared weight format
mlp_jax.load("mlp.safetensors").predict(x_test)
"""

__version__ = "0.1.0"

from .devices import devices, resolve_device, set_threads
from .engine import JaxEngine, make_engine
from .model import Model, load, train
from .network import MLP
from .optimizers import make_optimizer

__all__ = [
    "MLP",
    "JaxEngine",
    "Model",
    "devices",
    "load",
    "make_engine",
    "make_optimizer",
    "resolve_device",
    "set_threads",
    "train",
]
