"""How close one training epoch comes to the cost of its matrix products.

Times, in one run and on 1 and 2 BLAS threads:
  * one epoch of 784-128-64-10 ReLU/softmax at batch 64 over 60 000 samples (SGD),
  * the matrix products alone of that same epoch: the 3 forward, 3 weight-gradient and
    2 input-gradient products of each step, over the same batches, into preallocated
    arrays,
and prints their ratio (the goal: at most 1.3), then the time per step of online
learning (batch size 1) for 784-128-10 (the goal: at most 30 µs). Three more timings of
the same epoch say where the rest goes: its gathers of each batch's rows alone; the
epoch of an 8-4-4-10 network, whose step costs what the NumPy calls of a step cost
whatever the network's size (its products and gathers are tiny); and the NumPy calls the
engine makes, written out in one loop with no Python around them: the floor for an
engine making these calls (first checked to give the engine's weights). Data are random:
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
from mlp_numpy.backprop import Parameters
from mlp_numpy.batches import epoch_batches
from mlp_numpy.blas import SubtractProduct
from mlp_numpy.init import initial_layers
from mlp_numpy.inputs import one_hot
from mlp_numpy.losses import CrossEntropy
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


class InlinedEpoch:
    """The NumPy calls of the engine's epochs of plain SGD (lr 0.01) over full batches, in
    the engine's order (backprop.py, deferred.py), written out in one loop for this
    3-layer network: what an epoch costs without the Python around the calls. Like the
    engine, it allocates its arrays once and trains on from one epoch to the next."""

    def __init__(self, x: np.ndarray, y: np.ndarray, layers: list) -> None:
        self.x, self.y = x, y
        network = Network(layers=SIZES)
        self.params = Parameters(network, np.dtype(np.float32))  # the engine's flat layout
        self.params.assign(layers)
        self.grads = Parameters(network, np.dtype(np.float32))
        first = self.params.weights[0].size  # the optimizer step updates all but W₁
        self.rest, self.rest_gradients = self.params.flat[first:], self.grads.flat[first:]
        self.inputs = np.empty((BATCH, SIZES[0]), np.float32)  # the stack's X and D
        self.deltas = np.empty((BATCH, SIZES[1]), np.float32)
        self.apply = SubtractProduct(self.params.weights[0], self.deltas, self.inputs)
        self.h = [np.empty((BATCH, n), np.float32) for n in SIZES[1:3]]
        self.zeros = [np.zeros_like(h) for h in self.h]
        self.d2, self.d3 = np.empty_like(self.h[1]), np.empty((BATCH, SIZES[3]), np.float32)
        self.ones = np.ones(BATCH, np.float32)
        self.y_epoch, self.z_epoch, self.a_epoch = (np.empty_like(y) for _ in range(3))

    def __call__(self, order: np.ndarray) -> None:
        x, inputs, deltas, apply, ones, d2, d3 = (
            self.x,
            self.inputs,
            self.deltas,
            self.apply,
            self.ones,
            self.d2,
            self.d3,
        )
        (w1, w2, w3), (b1, b2, b3) = self.params.weights, self.params.biases
        (_, g_w2, g_w3), (g_b1, g_b2, g_b3) = self.grads.weights, self.grads.biases
        (h1, h2), (zeros1, zeros2) = self.h, self.zeros
        rest, g_rest, scale = self.rest, self.rest_gradients, 0.01 / BATCH
        n = len(order) - len(order) % BATCH
        y_epoch, z_epoch, a_epoch = self.y_epoch[:n], self.z_epoch[:n], self.a_epoch[:n]
        np.take(self.y, order[:n], axis=0, out=y_epoch, mode="clip")
        for start in range(0, n, BATCH):
            stop = start + BATCH
            x.take(order[start:stop], axis=0, out=inputs, mode="clip")
            z, a = z_epoch[start:stop], a_epoch[start:stop]
            np.dot(inputs, w1.T, out=h1)
            h1 += b1
            np.maximum(h1, zeros1, out=h1)
            np.dot(h1, w2.T, out=h2)
            h2 += b2
            np.maximum(h2, zeros2, out=h2)
            np.dot(h2, w3.T, out=z)
            z += b3
            np.subtract(z, z.max(axis=1, keepdims=True), out=a)
            np.exp(a, out=a)
            a /= a.sum(axis=1, keepdims=True)
            np.subtract(a, y_epoch[start:stop], out=d3)
            d3 *= scale
            np.dot(d3.T, h2, out=g_w3)
            np.dot(ones, d3, out=g_b3)
            np.dot(d3, w3, out=d2)
            d2 *= np.sign(h2)
            np.dot(d2.T, h1, out=g_w2)
            np.dot(ones, d2, out=g_b2)
            np.dot(d2, w2, out=deltas)
            deltas *= np.sign(h1)
            np.dot(ones, deltas, out=g_b1)
            rest -= g_rest
            apply(BATCH)
        CrossEntropy().sample_terms(z_epoch, a_epoch, y_epoch)  # the epoch's step losses


def inlined_against_engine(
    x: np.ndarray, labels: np.ndarray, targets: np.ndarray, layers: list
) -> float:
    """The largest difference between the weights after 20 steps of `InlinedEpoch` and
    of the engine, from the same start on the same batches."""
    order = epoch_batches(N, BATCH, 0, 0).order[: 20 * BATCH]
    inlined = InlinedEpoch(x, targets, layers)
    inlined(order)
    engine = mlp_numpy.make_engine(training_spec(SIZES, BATCH), x, labels, layers=layers)
    engine.train_batches(order, BATCH, 0.01)
    trained = Parameters(Network(layers=SIZES), np.dtype(np.float32))
    trained.assign(engine.get_layers())
    return float(np.abs(inlined.params.flat - trained.flat).max())


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
    layers = initial_layers(spec)
    weights = [w for w, _ in layers]
    targets = one_hot(labels, SIZES[-1], np.dtype(np.float32))
    engine = mlp_numpy.make_engine(spec, x, labels)
    online_engine = mlp_numpy.make_engine(online, x[:ONLINE_STEPS], labels[:ONLINE_STEPS])
    tiny = (8, 4, 4, 10)
    tiny_engine = mlp_numpy.make_engine(training_spec(tiny, BATCH), x[:, : tiny[0]], labels)
    inlined_epoch = InlinedEpoch(x, targets, layers)
    print(f"784-128-64-10 ReLU/softmax, batch {BATCH}, {N} samples, float32, SGD")
    difference = inlined_against_engine(x, labels, targets, layers)
    print(f"  inlined loop against the engine, 20 steps from one start: max |Δw| {difference:g}")
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
                    timed(inlined_epoch, order),
                ]
            )
        epoch, products, online_run, gathers, tiny_epoch, inlined = np.min(runs, axis=0)
        step = online_run / ONLINE_STEPS * 1e6
        print(f"  {threads} BLAS thread{'s' if threads > 1 else ''}:")
        for i, clock in enumerate(("wall", "CPU")):
            print(
                f"    {clock:>4}: epoch {epoch[i]:.3f} s, products alone {products[i]:.3f} s, "
                f"ratio {epoch[i] / products[i]:.2f}; batch-1 step (784-128-10) {step[i]:.1f} µs"
            )
        print(
            f"    where the rest goes (wall): gathers alone {gathers[0]:.3f} s; "
            f"the epoch of {'-'.join(map(str, tiny))} {tiny_epoch[0]:.3f} s; "
            f"the engine's NumPy calls inlined {inlined[0]:.3f} s, "
            f"ratio {inlined[0] / products[0]:.2f}"
        )


if __name__ == "__main__":
    main()
