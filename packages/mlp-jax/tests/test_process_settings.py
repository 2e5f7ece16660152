"""JAX's process-wide settings, each in a fresh Python process: `set_threads(1)` before JAX
starts keeps training on one thread, and `jax_enable_x64` leaves float32 training as it is."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

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
import json, sys
import numpy as np
import jax
if sys.argv[1] == "x64":
    jax.config.update("jax_enable_x64", True)
import mlp_jax
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

rng = np.random.default_rng(0)
x, labels = rng.random((640, 20), dtype=np.float32), rng.integers(0, 10, 640)
optimizer = Optimizer("adam", weight_decay=0.01)  # β, ε, λ and Adam's bias correction
spec = ModelSpec(
    Network((20, 16, 10)), training=Training(optimizer=optimizer, schedule=Schedule(lr=0.01))
)
engine = mlp_jax.make_engine(spec, x, labels, device="cpu")
losses = engine.train_batches(rng.permutation(640), 64, 0.01).tolist()
losses += engine.get_layers()[0].weight.ravel().tolist()
print(json.dumps([jax.config.read("jax_enable_x64"), losses]))
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
    off, on = run(FLOAT32_STEPS, "x32"), run(FLOAT32_STEPS, "x64")
    assert off[0] is False and on[0] is True
    np.testing.assert_array_equal(np.array(on[1]), np.array(off[1]))
