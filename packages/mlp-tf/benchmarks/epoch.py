"""One training epoch on the CPU, 784-128-64-10 ReLU at batch 64 (SGD), measured in one run:

  engine      mlp-tf's engine: model.fit with jit_compile=True, steps_per_execution=100, on
              a tf.data pipeline of the shared batch order (`mlp_tf.make_engine`)
  products    the same matrix products alone, in a tf.function loop over pre-cut batches:
              per step three forward products, three weight gradients and two deltas
              (the faster of TensorFlow's graph executor and XLA counts)
  model.fit   default Keras: Sequential of Dense layers, model.compile(SGD, sparse
              cross-entropy) with its defaults, model.fit(x, labels, batch_size=64)

plus online learning (batch 1) in µs per step through the engine. Each figure is the best
of --repeats rounds that interleave the candidates, after a warm-up run of each (tracing
and compilation excluded). Goals: engine ≤ 2× products, ≥ 2× faster than default
model.fit, batch 1 ≤ 150 µs per step.

    MNIST_MIRROR=... python packages/mlp-tf/benchmarks/epoch.py [--repeats 5] [--threads 1]
"""

import argparse
import itertools
import os
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import mlp_tf
import mnist_data
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

SIZES = (784, 128, 64, 10)
BATCH = 64
LR = 0.01


def best_times(repeats: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The shortest wall time of each run over `repeats` rounds, after one warm-up call each.

    The rounds interleave the runs, so a change in the machine's load hits them alike.
    """
    for run in runs.values():
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def engine_epoch(
    x: np.ndarray, labels: np.ndarray, *, steps_per_execution: int
) -> Callable[[], object]:
    spec = ModelSpec(
        Network(layers=SIZES),
        training=Training(batch_size=BATCH, optimizer=Optimizer("sgd"), schedule=Schedule(lr=LR)),
    )
    engine = mlp_tf.make_engine(
        spec, x, labels, device="cpu", steps_per_execution=steps_per_execution
    )
    print(f"make_engine (steps_per_execution={steps_per_execution}) compiled in", end=" ")
    print(f"{engine.compile_seconds:.2f} s")
    order = epoch_batches(len(x), BATCH, seed=0, epoch=0).order
    return lambda: engine.train_batches(order, BATCH, LR)


def online_steps(x: np.ndarray, labels: np.ndarray, optimizer: str, steps: int):
    """`steps` steps at batch 1 through the engine (one model.fit call)."""
    spec = ModelSpec(
        Network(layers=SIZES),
        training=Training(batch_size=1, optimizer=Optimizer(optimizer), schedule=Schedule(lr=1e-3)),
    )
    engine = mlp_tf.make_engine(spec, x, labels, device="cpu")
    order = epoch_batches(len(x), 1, seed=0, epoch=0).order[:steps]
    return lambda: engine.train_batches(order, 1, 1e-3)


def products_epoch(x: np.ndarray, *, jit_compile: bool) -> Callable[[], object]:
    """The epoch's matrix products and nothing else, on batches cut in advance."""
    steps = len(x) // BATCH
    rng = np.random.default_rng(0)
    batches = tf.constant(x[: steps * BATCH].reshape(steps, BATCH, SIZES[0]))
    deltas = tf.constant(rng.standard_normal((steps, BATCH, SIZES[-1]), dtype=np.float32))
    w1, w2, w3 = (
        tf.constant(rng.standard_normal((i, o), dtype=np.float32) * 0.05)
        for i, o in itertools.pairwise(SIZES)
    )

    @tf.function(jit_compile=jit_compile)
    def run(batches, deltas):
        total = tf.zeros([])
        for i in tf.range(steps):
            x = batches[i]
            h1 = tf.matmul(x, w1)
            h2 = tf.matmul(h1, w2)
            z = tf.matmul(h2, w3)
            d3 = deltas[i] + z  # keeps the forward products live
            g3 = tf.matmul(h2, d3, transpose_a=True)
            d2 = tf.matmul(d3, w3, transpose_b=True)
            g2 = tf.matmul(h1, d2, transpose_a=True)
            d1 = tf.matmul(d2, w2, transpose_b=True)
            g1 = tf.matmul(x, d1, transpose_a=True)
            total += g1[0, 0] + g2[0, 0] + g3[0, 0]
        return total

    return lambda: run(batches, deltas).numpy()


def keras_fit_epoch(x: np.ndarray, labels: np.ndarray) -> Callable[[], object]:
    model = keras.Sequential(
        [
            keras.Input((SIZES[0],)),
            keras.layers.Dense(SIZES[1], activation="relu"),
            keras.layers.Dense(SIZES[2], activation="relu"),
            keras.layers.Dense(SIZES[3]),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(LR),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )  # Keras's defaults: jit_compile="auto" (no XLA on a CPU-only machine), one step per call
    return lambda: model.fit(x, labels, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--online-steps", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow's threads; 0: its own")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    images, labels = mnist_data.load("train")
    x = mnist_data.flatten(mnist_data.standardize(images))
    labels = labels.astype(np.int64)
    r = args.repeats

    with tf.device("/CPU:0"):
        epochs = best_times(
            r,
            {
                "engine": engine_epoch(x, labels, steps_per_execution=100),
                "engine_epoch_spe": engine_epoch(x, labels, steps_per_execution=len(x) // BATCH),
                "products_graph": products_epoch(x, jit_compile=False),
                "products_xla": products_epoch(x, jit_compile=True),
                "fit": keras_fit_epoch(x, labels),
            },
        )
        online = best_times(
            r, {name: online_steps(x, labels, name, args.online_steps) for name in ("sgd", "adam")}
        )
    engine, engine_whole, fit = epochs["engine"], epochs["engine_epoch_spe"], epochs["fit"]
    products_graph, products_xla = epochs["products_graph"], epochs["products_xla"]
    products = min(products_graph, products_xla)

    threads = args.threads or "default"
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, CPU, {os.cpu_count()} cores,")
    print(f"threads: {threads}, best of {r} after a warm-up")
    print(f"one epoch, {'-'.join(map(str, SIZES))} ReLU, batch {BATCH}, 60000 samples:")
    print(f"  mlp-tf engine (XLA, 100 steps per execution)   {engine:7.3f} s")
    print(f"  the same, a whole epoch per execution          {engine_whole:7.3f} s")
    print(f"  products alone (graph)                         {products_graph:7.3f} s")
    print(f"  products alone (XLA)                           {products_xla:7.3f} s")
    print(f"  default Keras model.fit                        {fit:7.3f} s")
    print(f"engine / products            {engine / products:5.2f}x   (goal <= 2)")
    print(f"default model.fit / engine   {fit / engine:5.2f}x   (goal >= 2)")
    for name, seconds in online.items():
        per_step = seconds / args.online_steps
        print(f"batch 1, {name:<4}          {per_step * 1e6:6.1f} us/step (goal <= 150)")


if __name__ == "__main__":
    main()
