"""One training epoch, 784-128-64-10 ReLU at batch 64, measured in one run on the CPU (or GPU):

  products alone   the matrix products of the epoch's 937 full steps, compiled by XLA as
                   the engine's steps are (`mlp_tf.backend.products_steps`)
  engine           mlp-tf's engine: model.fit with jit_compile=True, 100 steps per
                   execution, on a synchronous tf.data pipeline of the epoch's samples
                   (`mlp_tf.make_engine`), with SGD and with Adam; and with SGD, a whole
                   epoch per execution
  prefetching      the engine's model trained by model.fit on the pipeline it had before:
                   each batch gathered in `map`, `prefetch(2)`, tf.data's own threads
  model.fit        default Keras (`mlp_tf.backend.tutorial_loop`): Sequential of Dense
                   layers, model.compile(SGD, sparse cross-entropy) with its defaults,
                   model.fit(x, labels, batch_size=64, shuffle=True)

plus online learning (batch 1, 5000 steps) in µs per step through the engine, with SGD and
with Adam. Each figure is the best of --repeats interleaved rounds after a warm-up
(`mlp_numpy.timing`; the engine compiles when it is made, which is not timed), by the wall
clock and by the process's CPU time. Targets, each printed as met or missed: SGD ≤ 2 ×
the products, Adam ≤ 2.5 ×, default model.fit ≥ 2 × the engine's time, a batch-1 SGD step
≤ 150 µs, every epoch measure's rounds within 1.15 × of each other.

    MNIST_MIRROR=... python packages/mlp-tf/benchmarks/epoch.py [--repeats 5] [--threads 1] \\
        [--device gpu]
"""

import argparse
import os
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import mlp_tf
import mnist_data
from mlp_numpy.batches import epoch_batches
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
from mlp_tf.backend import products_steps, set_threads, tutorial_loop
from mlp_tf.devices import resolve_device
from mlp_tf.engine import TFEngine

SIZES = (784, 128, 64, 10)
BATCH = 64
ONLINE_STEPS = 5000
RATES = {"sgd": 0.01, "adam": 0.001}


def engine_for(
    x: np.ndarray, labels: np.ndarray, optimizer: str, batch_size: int, device: str, **options
) -> TFEngine:
    spec = ModelSpec(
        Network(layers=SIZES),
        training=Training(
            batch_size=batch_size,
            optimizer=Optimizer(optimizer),
            schedule=Schedule(lr=RATES[optimizer]),
        ),
    )
    engine = mlp_tf.make_engine(spec, x, labels, device=device, **options)
    print(f"  make_engine ({optimizer}, batch {batch_size}, {options or 'defaults'}) compiled "
          f"in {engine.compile_seconds:.2f} s")  # fmt: skip
    return engine


def epoch_of(engine: TFEngine, optimizer: str, n: int, batch_size: int) -> Callable[[], object]:
    order = epoch_batches(n, batch_size, seed=0, epoch=0).order
    return lambda: engine.train_batches(order, batch_size, RATES[optimizer])


def prefetching_epoch(engine: TFEngine, x: np.ndarray, labels: np.ndarray) -> Callable[[], None]:
    """An epoch of the engine's compiled model on the pipeline the engine had before: a
    per-batch gather in `map` and `prefetch(2)`, run by tf.data's own threads."""
    order = epoch_batches(len(x), BATCH, seed=0, epoch=0).order
    xs = tf.constant(x)
    ys = tf.constant(np.eye(SIZES[-1], dtype=np.float32)[labels])

    def run() -> None:
        batches = tf.data.Dataset.from_tensor_slices(order).batch(BATCH)
        data = batches.map(lambda i: (tf.gather(xs, i), tf.gather(ys, i))).prefetch(2)
        engine.optimizer.learning_rate = RATES["sgd"]
        engine.model.fit(data, epochs=1, verbose=0, shuffle=False)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow's threads")
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    args = parser.parse_args()
    set_threads(args.threads)
    print(f"mlp-tf, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"{args.threads} thread(s), {args.device}; {machine()}")  # fmt: skip
    images, labels = mnist_data.load("train")
    x = mnist_data.flatten(mnist_data.standardize(images))
    labels = labels.astype(np.int64)
    n = len(x)
    device = args.device
    with tf.device(resolve_device(device)[1]):
        sgd = engine_for(x, labels, "sgd", BATCH, device)
        adam = engine_for(x, labels, "adam", BATCH, device)
        whole = engine_for(x, labels, "sgd", BATCH, device, steps_per_execution=n // BATCH + 1)
        old = engine_for(x, labels, "sgd", BATCH, device)
        products = products_steps(list(SIZES), BATCH, device)
        epochs = {
            "products alone (XLA)": lambda: products(n // BATCH),
            "engine, SGD": epoch_of(sgd, "sgd", n, BATCH),
            "engine, Adam": epoch_of(adam, "adam", n, BATCH),
            "engine, SGD, an epoch per execution": epoch_of(whole, "sgd", n, BATCH),
            "engine's model, prefetching pipeline": prefetching_epoch(old, x, labels),
            "default model.fit, SGD": tutorial_loop(list(SIZES), x, labels, BATCH, device),
        }
        online = {
            f"batch 1, engine, {name}": epoch_of(
                engine_for(x[:ONLINE_STEPS], labels[:ONLINE_STEPS], name, 1, device),
                name,
                ONLINE_STEPS,
                1,
            )
            for name in RATES
        }
        timings = interleaved({**epochs, **online}, args.repeats)
    print(f"one epoch, {'-'.join(map(str, SIZES))} ReLU, batch {BATCH}, {n} samples; best of "
          f"{args.repeats} interleaved rounds after a warm-up")  # fmt: skip
    print(TABLE_HEADER)
    for name in epochs:
        print(timing_row(name, timings[name], 1e3, "ms"))
    for name in online:
        print(timing_row(f"{name}, per step", timings[name], 1e6 / ONLINE_STEPS, "µs"))
    t = timings
    products_time = t["products alone (XLA)"]
    print("targets (wall clock, CPU time in brackets):")
    print(ratio_row("SGD / products alone", t["engine, SGD"], products_time, 2.0))
    print(ratio_row("Adam / products alone", t["engine, Adam"], products_time, 2.5))
    print(per_step_row("batch-1 SGD step (µs)", t["batch 1, engine, sgd"], ONLINE_STEPS, 150))
    fit = t["default model.fit, SGD"]
    print(ratio_row("default model.fit / engine", fit, t["engine, SGD"], 2.0, at_most=False))
    print(
        spread_row({name: t[name] for name in epochs if name.startswith(("engine,", "products"))})
    )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
