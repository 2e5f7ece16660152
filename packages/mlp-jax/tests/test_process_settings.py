"""JAX's process-wide settings: `set_threads(1)` before JAX starts keeps training on one
thread, and `jax_enable_x64` leaves float32 training as it is (each in a fresh Python
process); `set_threads` moves the process between CPUs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mlp_numpy
from mlp_jax import backend
from mlp_jax.devices import ALL_CPUS

ONE_THREAD = """
import json, os, time
import numpy as np
import mlp_jax
mlp_jax.set_threads(1)  # before JAX starts
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

rng = np.random.default_rng(0)
n, batch = 19200, 64
x, labels = rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)
spec = ModelSpec(
    Network((784, 128, 64, 10)),
    training=Training(batch_size=batch, optimizer=Optimizer("adam"), schedule=Schedule(lr=1e-3)),
)
engine = mlp_jax.make_engine(spec, x, labels, device="cpu")
engine.train_batches(epoch_batches(n, batch, 0, 0).order, batch, 1e-3)  # warm
ratios = []
for epoch in (1, 2, 3):
    wall, cpu = time.perf_counter(), time.process_time()
    engine.train_batches(epoch_batches(n, batch, 0, epoch).order, batch, 1e-3)
    ratios.append((time.process_time() - cpu) / (time.perf_counter() - wall))
names = [open(f"/proc/self/task/{t}/comm").read() for t in os.listdir("/proc/self/task")]
print(json.dumps([sum("XLAEigen" in name for name in names), ratios]))  # XLA's CPU pool
"""

FLOAT32_STEPS = """
import json
import numpy as np
import jax
import mlp_jax
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

rng = np.random.default_rng(0)
x, labels = rng.random((640, 20), dtype=np.float32), rng.integers(0, 10, 640)
order = rng.permutation(640)
optimizer = Optimizer("adam", weight_decay=0.01)  # β, ε, λ and Adam's bias correction
spec = ModelSpec(
    Network((20, 16, 10)), training=Training(optimizer=optimizer, schedule=Schedule(lr=0.01))
)
runs = []
for x64 in (False, True):  # JAX starts without it; then it is turned on
    jax.config.update("jax_enable_x64", x64)
    engine = mlp_jax.make_engine(spec, x, labels, device="cpu")
    losses = engine.train_batches(order, 64, 0.01).tolist()
    runs.append([x64, losses + engine.get_layers()[0].weight.ravel().tolist()])
print(json.dumps(runs))
"""


def run(script: str, *args: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_thread_takes_no_more_cpu_time_than_wall_time():
    """XLA's CPU pool has one thread, and the CPU time of an epoch over its wall time,
    every thread of the process counted, is at most 1.2 (other programs on the machine
    can only lower it)."""
    pool, ratios = run(ONE_THREAD)
    assert pool == 1
    assert len(ratios) == 3 and max(ratios) <= 1.2, ratios


def test_float32_training_is_the_same_with_and_without_jax_enable_x64():
    """inject_hyperparams casts every hyperparameter to the parameters' dtype, so Adam's
    bias correction and the decay are float32 whether Python floats are float32 or
    float64: the steps agree bit for bit."""
    off, on = run(FLOAT32_STEPS)
    assert off[0] is False and on[0] is True
    np.testing.assert_array_equal(np.array(on[1]), np.array(off[1]))


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
