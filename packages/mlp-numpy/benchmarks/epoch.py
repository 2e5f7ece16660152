"""How close one training epoch comes to the cost of its matrix products, in one run.

For 784-128-64-10 ReLU/softmax, float32, one epoch of 60 000 samples at batch 64, on one
BLAS thread (`--threads`), it times:
  * the matrix products alone of the epoch's 937 full steps (`mlp_numpy.backend.
    products_steps`: the 3 forward, 3 weight-gradient and 2 input-gradient products of
    each step, as the engine computes them);
  * the engine's epoch (`NumpyEngine.train_batches`), with plain SGD and with Adam;
  * the same SGD epoch as a from-scratch NumPy tutorial writes it (`mlp_numpy.tutorial`:
    one loop, W of shape (in, out), `@`, a mask for ReLU′, each parameter updated on its
    own);
  * a step of online learning (batch size 1, SGD, the same network), by the engine and
    by the tutorial loop, over 2000 steps;
and prints the targets, each as met or missed: SGD epoch ÷ products ≤ 1.4, Adam ÷
products ≤ 1.8, a batch-1 step ≤ 60 µs, the tutorial's epoch ≥ 1.1 × the engine's, and
the spread of every epoch measure's rounds (slowest ÷ fastest) ≤ 1.15. Data are random:
speed does not depend on them. Each figure is the best of `--repeats` interleaved rounds
after a warm-up (`mlp_numpy.timing`), by the wall clock and by the process's CPU time.

    python benchmarks/epoch.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

import mlp_numpy
from mlp_numpy.backend import products_steps
from mlp_numpy.batches import epoch_batches
from mlp_numpy.initializers import initial_layers
from mlp_numpy.inputs import one_hot
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.timing import (
    TABLE_HEADER,
    interleaved,
    load_average,
    machine,
    per_step_row,
    ratio_row,
    spread_row,
    timing_row,
)
from mlp_numpy.tutorial import TutorialLoop

N, BATCH, SIZES = 60_000, 64, (784, 128, 64, 10)
ONLINE_STEPS = 2_000
RATES = {"sgd": 0.01, "adam": 0.001}


def training_spec(optimizer: str, batch_size: int) -> ModelSpec:
    return ModelSpec(
        Network(layers=SIZES),
        training=Training(
            batch_size=batch_size,
            optimizer=Optimizer(optimizer),
            schedule=Schedule(lr=RATES[optimizer]),
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="best of this many rounds")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    args = parser.parse_args()
    print(f"mlp-numpy {mlp_numpy.__version__}, NumPy {np.__version__}, {args.threads} BLAS "
          f"thread(s); {machine()}")  # fmt: skip
    rng = np.random.default_rng(0)
    x = rng.random((N, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, SIZES[-1], N)
    y = one_hot(labels, SIZES[-1], np.float32)
    order = epoch_batches(N, BATCH, 0, 0).order
    online_order = epoch_batches(ONLINE_STEPS, 1, 0, 0).order
    engines = {name: mlp_numpy.make_engine(training_spec(name, BATCH), x, labels) for name in RATES}
    online = mlp_numpy.make_engine(training_spec("sgd", 1), x[:ONLINE_STEPS], labels[:ONLINE_STEPS])
    layers = initial_layers(training_spec("sgd", BATCH))
    tutorial, online_tutorial = (TutorialLoop(x, y, layers, RATES["sgd"]) for _ in range(2))
    products = products_steps(list(SIZES), BATCH, "cpu")
    full_steps = N // BATCH
    epochs = {
        "products alone": lambda: products(full_steps),
        "engine, SGD": lambda: engines["sgd"].train_batches(order, BATCH, RATES["sgd"]),
        "engine, Adam": lambda: engines["adam"].train_batches(order, BATCH, RATES["adam"]),
        "tutorial loop, SGD": lambda: tutorial(order, BATCH),
    }
    steps = {
        "batch 1, engine, SGD": lambda: online.train_batches(online_order, 1, RATES["sgd"]),
        "batch 1, tutorial loop, SGD": lambda: online_tutorial(online_order, 1),
    }
    with threadpool_limits(limits=args.threads, user_api="blas"):
        timings = interleaved({**epochs, **steps}, args.repeats)
    print(f"784-128-64-10 ReLU/softmax, float32, {N} samples; best of {args.repeats} "
          f"interleaved rounds after a warm-up")  # fmt: skip
    print(TABLE_HEADER)
    for name in epochs:
        print(timing_row(f"{name}, epoch at batch {BATCH}", timings[name]))
    for name in steps:
        print(timing_row(f"{name}, per step", timings[name], 1e6 / ONLINE_STEPS, "µs"))
    t = timings
    print("targets (wall clock, CPU time in brackets):")
    products = t["products alone"]
    print(ratio_row("SGD epoch / products alone", t["engine, SGD"], products, 1.4))
    print(ratio_row("Adam epoch / products alone", t["engine, Adam"], products, 1.8))
    print(per_step_row("batch-1 SGD step (µs)", t["batch 1, engine, SGD"], ONLINE_STEPS, 60))
    tutorial = t["tutorial loop, SGD"]
    print(ratio_row("tutorial loop / engine (SGD)", tutorial, t["engine, SGD"], 1.1, at_most=False))
    print(spread_row({name: t[name] for name in epochs if not name.startswith("tutorial")}))
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
