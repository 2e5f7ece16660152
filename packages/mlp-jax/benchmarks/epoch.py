"""How close is an mlp-jax epoch to the matrix products it cannot avoid, and how does it
compare with the Flax tutorial's loop? All figures and ratios come from one run.

    python packages/mlp-jax/benchmarks/epoch.py                 # CPU, one thread
    python packages/mlp-jax/benchmarks/epoch.py --device gpu    # GPU, batch 64 and 1024

One epoch of 60 000 samples through 784-128-64-10 (ReLU, softmax, cross-entropy,
float32), timed as:

- products: the eight matrix products of each step alone (three forward, three weight
  gradients, two input gradients) on the step's rows gathered on the device, one
  compiled call per step: the floor of a loop that calls compiled code once per step;
- products, scanned: the same in one `jax.lax.scan` over the epoch, one call per epoch:
  the floor of the compiled code itself;
- mlp-jax SGD / Adam: `engine.train_batches`, everything included (the epoch's index
  batches sent to the device, the jitted step with `nnx.value_and_grad`, the Optax loss and
  `nnx.Optimizer.update`, the step losses), one call per step and with `scan=True`;
  compilation happens when the engine is made and is reported on its own;
- tutorial: the Flax NNX MNIST tutorial's loop, an `nnx.jit` train step over shuffled
  NumPy batches (`optax.sgd`);

and, on CPU, online learning (batch size 1, SGD) in µs per step. CPU goals: SGD ≤ 1.3 ×
the products, Adam ≤ 1.5 ×, ≤ 100 µs per batch-1 step. GPU: batch 64 and 1024. With
`--compare`, the same SGD and Adam epochs of every other backend installed beside
(`make_engine` of mlp-numpy, mlp-torch, mlp-tf) are timed in the same rounds.

Each figure is the best of `--repeats` rounds after a warm-up round, the loops of a round
interleaved, so that a busy machine slows them all alike and the ratios stay meaningful.
On CPU both the wall time and the process's CPU time are reported; the load average
before and after is printed, as a note of the conditions. `--threads 1` (the default) runs
the process on one CPU before JAX starts (`mlp_jax.set_threads`), so XLA's CPU pool has
one thread.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from collections.abc import Callable
from functools import partial

import numpy as np

import mlp_jax
from mlp_jax.backend import products_loop, tutorial_loop
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

SIZES = (784, 128, 64, 10)
N = 60_000
ONLINE_STEPS = 5000
OPTIMIZERS = {"SGD": (Optimizer(name="sgd"), 0.01), "Adam": (Optimizer(name="adam"), 0.001)}


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """The wall time and the process's CPU time of one call of `run` (which waits for
    its results)."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def best_of(runs: dict[str, Callable[[], object]], repeats: int) -> list[dict[str, float]]:
    """The best wall time and the best CPU time of each run over `repeats` interleaved
    rounds (after one warm-up)."""
    for run in runs.values():
        run()
    best = [dict.fromkeys(runs, float("inf")) for _ in range(2)]
    for _ in range(repeats):
        for name, run in runs.items():
            for clock, seconds in zip(best, timed(run), strict=True):
                clock[name] = min(clock[name], seconds)
    return best


def engine_epoch(name: str, x, labels, batch_size: int, device: str, **options):
    """One epoch of `train_batches` with the optimizer called `name` (SGD or Adam), and
    the seconds its engine spent compiling."""
    optimizer, lr = OPTIMIZERS[name]
    spec = ModelSpec(
        Network(layers=SIZES),
        training=Training(batch_size=batch_size, optimizer=optimizer, schedule=Schedule(lr=lr)),
    )
    engine = mlp_jax.make_engine(spec, x, labels, device=device, **options)
    order = epoch_batches(len(x), batch_size, 0, 0).order
    return (lambda: engine.train_batches(order, batch_size, lr)), engine.compile_seconds


def other_backends(x, labels, batch_size: int) -> dict[str, Callable[[], object]]:
    """One epoch of `train_batches` of every other installed backend, SGD and Adam, on the
    CPU (each framework on one thread: the process runs on one CPU, see `--threads`)."""
    runs = {}
    for name in ("mlp_numpy", "mlp_torch", "mlp_tf"):
        try:
            backend = importlib.import_module(name)
        except ImportError:
            continue
        if name == "mlp_torch":
            import torch

            torch.set_num_threads(1)
        for optimizer_name, (optimizer, lr) in OPTIMIZERS.items():
            spec = ModelSpec(
                Network(layers=SIZES),
                training=Training(
                    batch_size=batch_size, optimizer=optimizer, schedule=Schedule(lr=lr)
                ),
            )
            engine = backend.make_engine(spec, x, labels, device="cpu")
            order = epoch_batches(len(x), batch_size, 0, 0).order
            runs[f"{name.replace('_', '-')} {optimizer_name}"] = partial(
                engine.train_batches, order, batch_size, lr
            )
    return runs


def print_times(best: dict[str, float], width: int = 30) -> None:
    for name, seconds in best.items():
        print(f"  {name:<{width}} {seconds * 1000:8.1f} ms")


def report(
    x, labels, repeats: int, device: str, batch_sizes: list[int], online: bool, compare: bool
) -> None:
    import jax

    place = mlp_jax.resolve_device(device)
    print(f"{place.platform}: {place.device_kind}, jax {jax.__version__}, epoch of {N}:")
    for batch_size in batch_sizes:
        runs = {
            "products": partial(products_loop(SIZES, N, batch_size, device), 0),
            "products, scanned": partial(products_loop(SIZES, N, batch_size, device, scan=True), 0),
        }
        compile_seconds = {}
        for name in OPTIMIZERS:
            for label, options in (("", {}), (", scan", {"scan": True})):
                runs[f"mlp-jax {name}{label}"], compile_seconds[f"{name}{label}"] = engine_epoch(
                    name, x, labels, batch_size, device, **options
                )
        runs["tutorial (nnx.jit, SGD)"] = partial(
            tutorial_loop(SIZES, x, labels, batch_size, device), 0
        )
        if compare:
            runs |= other_backends(x, labels, batch_size)
        times = best_of(runs, repeats)
        print(f" batch {batch_size}; compiling, when each engine was made:")
        for name, seconds in compile_seconds.items():
            print(f"  {name:<30} {seconds:8.2f} s")
        for clock, best in zip(("wall", "CPU"), times, strict=True):
            print(f" {clock} time:")
            print_times(best)
            step, scanned = best["products"], best["products, scanned"]
            for name in OPTIMIZERS:
                goal = "1.3" if name == "SGD" else "1.5"
                ratio, ratio_scan = best[f"mlp-jax {name}"] / step, best[f"mlp-jax {name}, scan"]
                print(f"  {name} / products              = {ratio:5.2f} (goal ≤ {goal})")
                print(f"  {name}, scan / products, scanned = {ratio_scan / scanned:5.2f}")
            tutorial = best["tutorial (nnx.jit, SGD)"]
            print(f"  tutorial / SGD                = {tutorial / best['mlp-jax SGD']:5.2f}")
            for name in OPTIMIZERS:
                for other in (k for k in best if k.endswith(f" {name}") and "jax" not in k):
                    ratio = best[other] / best[f"mlp-jax {name}"]
                    print(f"  {other} / mlp-jax {name:<5}  = {ratio:5.2f}")
    if online:
        run, _ = engine_epoch("SGD", x[:ONLINE_STEPS], labels[:ONLINE_STEPS], 1, device)
        for clock, best in zip(("wall", "CPU"), best_of({"SGD": run}, repeats), strict=True):
            per_step = best["SGD"] / ONLINE_STEPS * 1e6
            print(f" batch 1, SGD, {clock} time: {per_step:6.1f} µs per step (goal ≤ 100)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="XLA CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--compare", action="store_true", help="CPU: also the other installed backends' epochs"
    )
    args = parser.parse_args()
    mlp_jax.set_threads(args.threads)  # before JAX starts
    rng = np.random.default_rng(0)  # the speed does not depend on the values
    x = rng.integers(0, 256, (N, 784), dtype=np.uint8).astype(np.float32) / 255
    labels = rng.integers(0, SIZES[-1], N)
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.device == "gpu":
        report(x, labels, args.repeats, "gpu", [64, 1024], online=False, compare=False)
    else:
        report(x, labels, args.repeats, "cpu", [64], online=True, compare=args.compare)
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
