"""How close one training epoch comes to the cost of its matrix products.

Times, in one run and on 1 and 2 BLAS threads:
  * one epoch of 784-128-64-10 ReLU/softmax at batch 64 over 60 000 samples (SGD),
  * the matrix products alone of that same epoch: the 3 forward, 3 weight-gradient and
    2 input-gradient products of each step, over the same batches, into preallocated
    arrays,
and prints their ratio (the goal: at most 1.3), then the time per step of online
learning (batch size 1) for 784-128-10 (the goal: at most 30 µs). Two more timings of
the same epoch say where the rest goes: its gathers of each batch's rows alone, and the
epoch of an 8-4-4-10 network, whose step costs what the NumPy calls of a step cost
whatever the network's size (its products and gathers are tiny). Data are random:
speed does not depend on them. Each figure is the best of `--repeats` runs, taken in
turn so that a busy machine slows both sides alike, as wall time and as the process's
CPU time (which on a shared machine excludes waiting for a core). Online learning is
timed in runs of 2000 steps, ten per round: on a shared machine, short runs are more
likely than long ones to find a moment when the core is not taken by other work.

    python benchmarks/epoch_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mlp_numpy
from mlp_numpy.batches import epoch_batches
from mlp_numpy.init import initial_layers
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

N, BATCH, SIZES = 60_000, 64, (784, 128, 64, 10)
ONLINE_STEPS, ONLINE_RUNS = 2_000, 10  # online learning: runs per round, steps per run


def timed(function, *args) -> np.ndarray:
    """(wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function(*args)
    return np.array([time.perf_counter() - wall, time.process_time() - cpu])


def best_online_run(engine, round_: int) -> np.ndarray:
    """The best (wall, CPU) seconds of ONLINE_RUNS runs of ONLINE_STEPS steps at batch 1."""
    runs = []
    for run in range(ONLINE_RUNS):
        order = epoch_batches(ONLINE_STEPS, 1, round_, run).order
        runs.append(timed(engine.train_batches, order, 1, 0.01))
    return np.min(runs, axis=0)


def products_only(x: np.ndarray, weights: list[np.ndarray], order: np.ndarray) -> None:
    """The matrix products of one epoch of batches of `order`, and nothing else."""
    h = [np.empty((BATCH, w.shape[0]), np.float32) for w in weights]
    dh = [np.empty((BATCH, w.shape[1]), np.float32) for w in weights]
    grads = [np.empty_like(w) for w in weights]
    for start in range(0, len(order) - BATCH + 1, BATCH):
        inputs = [x[start : start + BATCH], h[0], h[1]]
        for i, w in enumerate(weights):
            np.dot(inputs[i], w.T, out=h[i])
        for i in (2, 1, 0):
            np.dot(h[i].T, inputs[i], out=grads[i])
            if i > 0:
                np.dot(h[i], weights[i], out=dh[i])


def gathers_only(x: np.ndarray, order: np.ndarray) -> None:
    """The gathers of one epoch: each batch's rows copied into one preallocated array."""
    rows = np.empty((BATCH, x.shape[1]), x.dtype)
    for start in range(0, len(order) - BATCH + 1, BATCH):
        x.take(order[start : start + BATCH], axis=0, out=rows, mode="clip")


def training_spec(sizes: tuple[int, ...], batch_size: int) -> ModelSpec:
    optimizer, schedule = Optimizer("sgd"), Schedule(lr=0.01)
    return ModelSpec(
        Network(layers=sizes),
        training=Training(batch_size=batch_size, optimizer=optimizer, schedule=schedule),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((N, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, 10, N)
    spec, online = training_spec(SIZES, BATCH), training_spec((784, 128, 10), 1)
    weights = [w for w, _ in initial_layers(spec)]
    engine = mlp_numpy.make_engine(spec, x, labels)
    online_engine = mlp_numpy.make_engine(online, x[:ONLINE_STEPS], labels[:ONLINE_STEPS])
    tiny = (8, 4, 4, 10)
    tiny_engine = mlp_numpy.make_engine(training_spec(tiny, BATCH), x[:, : tiny[0]], labels)
    print(f"784-128-64-10 ReLU/softmax, batch {BATCH}, {N} samples, float32, SGD")
    for threads in (1, 2):
        mlp_numpy.set_blas_threads(threads)
        runs = []
        for r in range(args.repeats):
            order = epoch_batches(N, BATCH, 0, r).order
            runs.append(
                [
                    timed(engine.train_batches, order, BATCH, 0.01),
                    timed(products_only, x, weights, order),
                    best_online_run(online_engine, r),
                    timed(gathers_only, x, order),
                    timed(tiny_engine.train_batches, order, BATCH, 0.01),
                ]
            )
        epoch, products, online_run, gathers, tiny_epoch = np.min(runs, axis=0)  # best of each
        step = online_run / ONLINE_STEPS * 1e6
        print(f"  {threads} BLAS thread{'s' if threads > 1 else ''}:")
        for i, clock in enumerate(("wall", "CPU")):
            print(
                f"    {clock:>4}: epoch {epoch[i]:.3f} s, products alone {products[i]:.3f} s, "
                f"ratio {epoch[i] / products[i]:.2f}; batch-1 step (784-128-10) {step[i]:.1f} µs"
            )
        print(
            f"    where the rest goes (wall): gathers alone {gathers[0]:.3f} s; "
            f"the epoch of {'-'.join(map(str, tiny))} {tiny_epoch[0]:.3f} s"
        )


if __name__ == "__main__":
    main()
