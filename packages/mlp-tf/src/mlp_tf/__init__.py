"""The mlp-numpy reference network in TensorFlow/Keras."""

__version__ = "0.1.0"
