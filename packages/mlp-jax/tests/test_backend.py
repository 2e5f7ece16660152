"""The shared backend conformance suite (mlp_numpy.testing), run on mlp-jax: on the
device of `MLP_JAX_TEST_DEVICE` (default "cpu"), as the other tests here."""

import os

from conftest import DEVICE_VARIABLE

from mlp_numpy.testing import BackendConformance


class TestConformance(BackendConformance):
    backend = "jax"
    device = os.environ.get(DEVICE_VARIABLE, "cpu")
