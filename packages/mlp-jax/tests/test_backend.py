"""mlp-jax through its entry point: the `Backend` protocol mlp-compare uses, the defaults it
reads from the installed Flax and Optax, and the loops `bench` times."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import mlp_numpy
from mlp_jax import backend
from mlp_jax.devices import ALL_CPUS
from mlp_numpy import backends
from mlp_numpy.defaults import DEFAULTS


def test_the_entry_point_finds_this_backend():
    (registered,) = [r for r in backends.discover() if r.name == "jax"]
    assert registered.module_name == "mlp_jax.backend"
    assert registered.distribution == "mlp-jax"
    module = backends.load(registered)
    assert module is backend and isinstance(module, backends.Backend)
    assert backend.NAME == "jax" and backend.DEFAULTS_SET in DEFAULTS
    assert backend.framework_version().startswith("jax ")
    assert backend.devices()[0] == "cpu"
    assert backend.accelerator_name() is None or "gpu" in backend.devices()


def test_installed_defaults_are_read_from_flax_and_optax():
    defaults = backend.installed_defaults()
    flax = DEFAULTS["flax"]
    assert defaults["eps"].value == flax["training"]["optimizer"]["eps"]
    assert defaults["weight_decay"].value == flax["training"]["optimizer"]["weight_decay"]
    # nnx.Linear's lecun_normal, measured: a standard deviation of 1/√fan_in, truncated
    # at 2 / 0.8796 of it; zero biases
    init = defaults["init"].value
    std, largest = (float(part.split(", ")[0]) for part in init.split("= ")[1:3])
    assert std == pytest.approx(1.0, abs=0.02) and 2.2 < largest < 2 / 0.87962566103423978
    assert init.endswith("bias zeros")
    assert all(reading.source for reading in defaults.values())


def test_threads_are_the_cpus_the_process_may_use():
    """conftest put the process on one CPU before JAX started; set_threads moves it."""
    cpus = len(ALL_CPUS)
    assert backend.thread_settings() == {"xla_cpu": 1}
    assert all(len(os.sched_getaffinity(int(t))) == 1 for t in os.listdir("/proc/self/task"))
    assert mlp_numpy.blas_threads() == 1  # the BLAS pool as many threads as CPUs
    try:
        backend.set_threads(cpus)
        assert backend.thread_settings() == {"xla_cpu": cpus}
    finally:
        backend.set_threads(1)
    assert backend.thread_settings() == {"xla_cpu": 1}
    with pytest.raises(ValueError, match="threads: must be an integer ≥ 1, got 0"):
        backend.set_threads(0)
    with pytest.raises(ValueError, match=f"may run on {cpus} CPUs, not {cpus + 1}"):
        backend.set_threads(cpus + 1)


def test_benchmark_loops_run_and_time_an_epoch():
    rng = np.random.default_rng(0)
    x, labels = rng.random((256, 12)), rng.integers(0, 3, 256)
    for seconds in (
        backend.products_epoch([12, 8, 3], 256, 64, 1, "cpu"),
        backend.tutorial_epoch([12, 8, 3], x, labels, 64, 1, "cpu"),
    ):
        assert math.isfinite(seconds) and seconds > 0
