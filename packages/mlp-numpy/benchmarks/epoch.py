"""How close one training epoch comes to the cost of its matrix products, in one run.

For 784-128-64-10 ReLU/softmax at batch 64, one epoch of 60 000 samples, float32, plain
SGD, on each BLAS thread count asked for (`--threads`, default 1 and 2), it times:
  * the engine's epoch (`NumpyEngine.train_batches`);
  * the matrix products alone of that same epoch: the 3 forward, 3 weight-gradient and 2
    input-gradient products of each step, over the same batches; the ratio epoch /
    products is the goal (at most 1.5 on one thread);
  * the same epoch as a from-scratch NumPy tutorial writes it: one loop, W of shape
    (in, out), `@`, a mask for ReLU′, each parameter updated on its own; per step
    against the engine's step (the goal: at least as slow as the engine);
  * a step of online learning (batch size 1) for 784-128-10, by the engine (the goal: at
    most 60 µs) and by the tutorial loop.
Data are random: speed does not depend on them. Each figure is the best of `--repeats`
rounds, the timings of a round taken in turn so that a busy machine slows each alike, as
wall time and as the process's CPU time (which on a shared machine excludes waiting for
a core). Online learning is timed in runs of 2000 steps, ten per round: on a shared
machine short runs are more likely than long ones to find a core free.

    python benchmarks/epoch.py [--repeats 5] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import mlp_numpy
from mlp_numpy.batches import epoch_batches
from mlp_numpy.initializers import initial_layers
from mlp_numpy.inputs import one_hot
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.tutorial import TutorialLoop

N, BATCH, SIZES, ONLINE_SIZES = 60_000, 64, (784, 128, 64, 10), (784, 128, 10)
ONLINE_STEPS, ONLINE_RUNS = 2_000, 10  # online learning: steps per run, runs per round
LR = 0.01


def timed(function, *args) -> np.ndarray:
    """(wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function(*args)
    return np.array([time.perf_counter() - wall, time.process_time() - cpu])


def best_online_run(train, round_: int) -> np.ndarray:
    """The best (wall, CPU) seconds of ONLINE_RUNS calls train(order) of ONLINE_STEPS steps."""
    runs = []
    for run in range(ONLINE_RUNS):
        order = epoch_batches(ONLINE_STEPS, 1, round_, run).order
        runs.append(timed(train, order))
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


def training_spec(sizes: tuple[int, ...], batch_size: int) -> ModelSpec:
    optimizer, schedule = Optimizer("sgd"), Schedule(lr=LR)
    return ModelSpec(
        Network(layers=sizes),
        training=Training(batch_size=batch_size, optimizer=optimizer, schedule=schedule),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="best of this many rounds")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="BLAS threads")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((N, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, 10, N)
    y = one_hot(labels, 10, np.float32)
    spec, online = training_spec(SIZES, BATCH), training_spec(ONLINE_SIZES, 1)
    layers = initial_layers(spec)
    weights = [w for w, _ in layers]
    engine = mlp_numpy.make_engine(spec, x, labels)
    tutorial = TutorialLoop(x, y, layers, LR)
    online_engine = mlp_numpy.make_engine(online, x[:ONLINE_STEPS], labels[:ONLINE_STEPS])
    online_tutorial = TutorialLoop(x, y, initial_layers(online), LR)
    steps = N // BATCH
    print(f"784-128-64-10 ReLU/softmax, batch {BATCH}, {N} samples, float32, SGD; "
          f"batch-1 steps of 784-128-10; best of {args.repeats} rounds")  # fmt: skip
    for threads in args.threads:
        with threadpool_limits(limits=threads, user_api="blas"):
            rounds = []
            for r in range(args.repeats):
                order = epoch_batches(N, BATCH, 0, r).order
                rounds.append(
                    [
                        timed(engine.train_batches, order, BATCH, LR),
                        timed(products_only, x, weights, order),
                        timed(tutorial, order, BATCH),
                        best_online_run(lambda o: online_engine.train_batches(o, 1, LR), r),
                        best_online_run(lambda o: online_tutorial(o, 1), r),
                    ]
                )
        epoch, products, tutorial_epoch, online_run, online_tutorial_run = np.min(rounds, axis=0)
        print(f"  {threads} BLAS thread{'s' if threads > 1 else ''}:")
        for i, clock in enumerate(("wall", "CPU")):
            step = epoch[i] / steps * 1e6
            print(
                f"    {clock:>4}: epoch {epoch[i]:.3f} s, products alone {products[i]:.3f} s, "
                f"ratio {epoch[i] / products[i]:.2f} (goal ≤ 1.5); "
                f"step {step:.0f} µs, tutorial loop {tutorial_epoch[i] / steps * 1e6:.0f} µs "
                f"(× {tutorial_epoch[i] / epoch[i]:.2f}, goal ≥ 1); "
                f"batch-1 step {online_run[i] / ONLINE_STEPS * 1e6:.1f} µs (goal ≤ 60), "
                f"tutorial loop {online_tutorial_run[i] / ONLINE_STEPS * 1e6:.1f} µs"
            )


if __name__ == "__main__":
    main()
