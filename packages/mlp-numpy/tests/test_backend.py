"""The shared backend conformance suite (mlp_numpy.testing), run on the reference itself."""

from mlp_numpy.testing import BackendConformance


class TestConformance(BackendConformance):
    backend = "numpy"
