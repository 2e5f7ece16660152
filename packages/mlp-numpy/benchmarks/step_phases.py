"""Where one engine step's time goes: the phases of `NumpyEngine.step`, timed apart.

For 784-128-64-10 ReLU/softmax, float32, plain SGD, one BLAS thread, it runs an epoch's
steps (60 000 samples at batch 64, or 5 000 steps at batch 1) phase by phase, as
`NumpyEngine.step` calls them, and prints the CPU time per step of each phase: gathering
the batch's rows, the forward pass, the loss, the backward pass and the update, and,
beside them, the matrix products alone of those passes (`products_steps`). What a pass
takes beyond its products is NumPy's elementwise work and its per-call cost. Each figure
is the best of `--repeats` epochs.

    python benchmarks/step_phases.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import mlp_numpy
from mlp_numpy.backend import products_steps
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.timing import machine

SIZES = (784, 128, 64, 10)
PHASES = ("gather the rows", "forward", "loss", "backward", "update", "whole step")


def phases_per_step(
    engine: mlp_numpy.NumpyEngine, order: np.ndarray, batch_size: int
) -> np.ndarray:
    """CPU seconds per step of each phase over one epoch of `order`."""
    net, optimizer = engine.net, engine.optimizer
    totals = np.zeros(len(PHASES))
    clock = time.process_time
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        t0 = clock()
        x, y = engine.x.take(batch, axis=0), engine.y.take(batch, axis=0)
        t1 = clock()
        trace = net.forward(x)
        t2 = clock()
        net.loss_value(trace, y)
        t3 = clock()
        net.backward(trace, y)
        t4 = clock()
        optimizer.step(net.params.flat, net.grads.flat, 0.01)
        t5 = clock()
        totals += (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0)
    return totals / -(-len(order) // batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many epochs")
    args = parser.parse_args()
    print(f"NumPy {np.__version__}, one BLAS thread; {machine()}")
    rng = np.random.default_rng(0)
    x = rng.random((60_000, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, SIZES[-1], len(x))
    for batch_size, n in ((64, 60_000), (1, 5_000)):
        training = Training(
            batch_size=batch_size, optimizer=Optimizer("sgd"), schedule=Schedule(lr=0.01)
        )
        spec = ModelSpec(Network(layers=SIZES), training=training)
        engine = mlp_numpy.make_engine(spec, x[:n], labels[:n])
        order = epoch_batches(n, batch_size, 0, 0).order
        products = products_steps(list(SIZES), batch_size, "cpu")
        steps = n // batch_size
        with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore"):
            phases = np.min(
                [phases_per_step(engine, order, batch_size) for _ in range(args.repeats)], axis=0
            )
            alone = []
            for _ in range(args.repeats):
                start = time.process_time()
                products(steps)
                alone.append((time.process_time() - start) / steps)
        print(f"batch {batch_size}, CPU µs per step (best of {args.repeats} epochs):")
        for name, seconds in zip(PHASES, phases, strict=True):
            print(f"  {name:<16} {seconds * 1e6:8.1f}")
        products_alone = min(alone) * 1e6
        print(f"  {'products alone':<16} {products_alone:8.1f}  (of the two passes)")


if __name__ == "__main__":
    main()
