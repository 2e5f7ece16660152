"""The shared backend conformance suite (mlp_numpy.testing), run on mlp-tf."""

from mlp_numpy.testing import BackendConformance


class TestConformance(BackendConformance):
    backend = "tf"
