"""How close is an mlp-jax epoch to the matrix products it cannot avoid, and how does it
compare with the Flax tutorial's loop? All figures and ratios come from one run.

    python packages/mlp-jax/benchmarks/epoch.py                 # CPU, one thread
    python packages/mlp-jax/benchmarks/epoch.py --compare       # + the other backends
    python packages/mlp-jax/benchmarks/epoch.py --device gpu    # GPU, batch 64 and 1024

One epoch of 60 000 samples through 784-128-64-10 (ReLU, softmax, cross-entropy,
float32), timed as:

- products alone: the eight matrix products of each of the epoch's 937 full steps (three
  forward, three weight gradients, two input gradients) in one compiled loop
  (`mlp_jax.backend.products_steps`): the floor; and the same with the step's rows
  gathered on the device, one compiled call per step (`products_loop`): the floor of a
  loop that calls compiled code once per step;
- mlp-jax SGD / Adam: `engine.train_batches`, everything included (the epoch's index
  batches sent to the device, the jitted step with `nnx.value_and_grad`, the Optax loss
  and `nnx.Optimizer.update`, the step losses), with the engine's defaults (on the CPU, the
  epoch's steps scanned in one call) and with one call per step (`scan=False`);
  compilation happens when the engine is made and is reported on its own;
- tutorial: the Flax NNX MNIST tutorial's loop, an `nnx.jit` train step over shuffled
  NumPy batches (`optax.sgd`);
- with `--compare`, the same SGD and Adam epochs of every other backend installed beside
  (`make_engine` of mlp-numpy, mlp-torch, mlp-tf), in the same rounds;

and, on CPU, online learning (batch size 1, SGD, 5000 steps) in µs per step. CPU targets,
each printed as met or missed: SGD ≤ 1.3 × the products alone, Adam ≤ 1.5 ×, ≤ 100 µs per
batch-1 step, every epoch measure's rounds within 1.15 × of each other. GPU: batch 64
and 1024.

Each figure is the best of `--repeats` interleaved rounds after a warm-up
(`mlp_numpy.timing`), by the wall clock and by the process's CPU time. `--threads 1` (the
default) runs the process on one CPU before JAX starts (`mlp_jax.set_threads`), so XLA's
CPU pool has one thread.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from functools import partial

import numpy as np

import mlp_jax
from mlp_jax.backend import products_loop, products_steps, tutorial_loop
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

SIZES = (784, 128, 64, 10)
N = 60_000
ONLINE_STEPS = 5000
OPTIMIZERS = {"SGD": (Optimizer(name="sgd"), 0.01), "Adam": (Optimizer(name="adam"), 0.001)}


def spec_for(name: str, batch_size: int) -> ModelSpec:
    optimizer, lr = OPTIMIZERS[name]
    return ModelSpec(
        Network(layers=SIZES),
        training=Training(batch_size=batch_size, optimizer=optimizer, schedule=Schedule(lr=lr)),
    )


def engine_epoch(name: str, x, labels, batch_size: int, device: str, **options):
    """One epoch of `train_batches` with the optimizer called `name` (SGD or Adam), and
    the seconds its engine spent compiling."""
    engine = mlp_jax.make_engine(spec_for(name, batch_size), x, labels, device=device, **options)
    order = epoch_batches(len(x), batch_size, 0, 0).order
    lr = OPTIMIZERS[name][1]
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
        for optimizer_name, (_, lr) in OPTIMIZERS.items():
            engine = backend.make_engine(
                spec_for(optimizer_name, batch_size), x, labels, device="cpu"
            )
            order = epoch_batches(len(x), batch_size, 0, 0).order
            runs[f"{name.replace('_', '-')} {optimizer_name}"] = partial(
                engine.train_batches, order, batch_size, lr
            )
    return runs


def cpu_report(x, labels, repeats: int, compare: bool) -> None:
    products = products_steps(list(SIZES), 64, "cpu")
    epochs: dict[str, Callable[[], object]] = {
        "products alone": lambda: products(N // 64),
        "products, one call per step": partial(products_loop(SIZES, N, 64, "cpu"), 0),
    }
    compile_seconds = {}
    for name in OPTIMIZERS:
        for label, options in (("", {}), (", one call per step", {"scan": False})):
            epochs[f"mlp-jax {name}{label}"], compile_seconds[f"{name}{label}"] = engine_epoch(
                name, x, labels, 64, "cpu", **options
            )
    epochs["tutorial (nnx.jit, SGD)"] = partial(tutorial_loop(SIZES, x, labels, 64, "cpu"), 0)
    if compare:
        epochs |= other_backends(x, labels, 64)
    online = {}
    for label, options in (("", {}), (", one call per step", {"scan": False})):
        online[f"batch 1, mlp-jax SGD{label}"] = engine_epoch(
            "SGD", x[:ONLINE_STEPS], labels[:ONLINE_STEPS], 1, "cpu", **options
        )[0]
    print("compiling, when each engine was made (batch 64):")
    for name, seconds in compile_seconds.items():
        print(f"  {name:<40} {seconds:8.2f} s")
    timings = interleaved({**epochs, **online}, repeats)
    print(f"one epoch of {N} at batch 64; best of {repeats} interleaved rounds after a warm-up")
    print(TABLE_HEADER)
    for name in epochs:
        print(timing_row(name, timings[name], 1e3, "ms"))
    for name in online:
        print(timing_row(f"{name}, per step", timings[name], 1e6 / ONLINE_STEPS, "µs"))
    t = timings
    print("targets (wall clock, CPU time in brackets):")
    print(ratio_row("SGD / products alone", t["mlp-jax SGD"], t["products alone"], 1.3))
    print(ratio_row("Adam / products alone", t["mlp-jax Adam"], t["products alone"], 1.5))
    print(per_step_row("batch-1 SGD step (µs)", t["batch 1, mlp-jax SGD"], ONLINE_STEPS, 100))
    print(
        spread_row({name: t[name] for name in epochs if name.startswith(("mlp-jax", "products"))})
    )
    print("beside (CPU time):")
    print(f"  tutorial / mlp-jax SGD: "
          f"{t['tutorial (nnx.jit, SGD)'].best_cpu / t['mlp-jax SGD'].best_cpu:.2f}")  # fmt: skip
    for name in OPTIMIZERS:
        for other in (k for k in epochs if k.endswith(f" {name}") and "jax" not in k):
            ratio = t[other].best_cpu / t[f"mlp-jax {name}"].best_cpu
            print(f"  {other} / mlp-jax {name}: {ratio:.2f}")


def gpu_report(x, labels, repeats: int) -> None:
    import jax

    place = mlp_jax.resolve_device("gpu")
    print(f"{place.platform}: {place.device_kind}, jax {jax.__version__}, epoch of {N}:")
    for batch_size in (64, 1024):
        products = products_steps(list(SIZES), batch_size, "gpu")
        steps = N // batch_size
        runs: dict[str, Callable[[], object]] = {
            "products alone": lambda p=products, s=steps: p(s),
            "products, one call per step": partial(products_loop(SIZES, N, batch_size, "gpu"), 0),
        }
        for name in OPTIMIZERS:
            for label, options in (("", {}), (", scan", {"scan": True})):
                runs[f"mlp-jax {name}{label}"] = engine_epoch(
                    name, x, labels, batch_size, "gpu", **options
                )[0]
        runs["tutorial (nnx.jit, SGD)"] = partial(
            tutorial_loop(SIZES, x, labels, batch_size, "gpu"), 0
        )
        print(f" batch {batch_size}:")
        print(TABLE_HEADER)
        for name, timing in interleaved(runs, repeats).items():
            print(timing_row(name, timing, 1e3, "ms"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="XLA CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--compare", action="store_true", help="CPU: also the other installed backends' epochs"
    )
    args = parser.parse_args()
    mlp_jax.set_threads(args.threads)  # before JAX starts
    import jax

    print(f"mlp-jax, jax {jax.__version__}; {machine()}")
    rng = np.random.default_rng(0)  # the speed does not depend on the values
    x = rng.integers(0, 256, (N, 784), dtype=np.uint8).astype(np.float32) / 255
    labels = rng.integers(0, SIZES[-1], N)
    if args.device == "gpu":
        gpu_report(x, labels, args.repeats)
    else:
        cpu_report(x, labels, args.repeats, args.compare)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
