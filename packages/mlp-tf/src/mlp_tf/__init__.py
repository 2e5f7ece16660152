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

__version__ = "0.1.0"

from .devices import devices
from .engine import TFEngine, make_engine
from .model import Model, load, train
from .network import MLP

__all__ = ["MLP", "Model", "TFEngine", "devices", "load", "make_engine", "train"]
