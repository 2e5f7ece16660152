"""How close is an mlp-torch epoch to the matrix products it cannot avoid, and how does it
compare with the idiomatic `DataLoader` loop? All figures and ratios come from one run.

    python packages/mlp-torch/benchmarks/epoch.py                 # CPU, one thread
    python packages/mlp-torch/benchmarks/epoch.py --compile       # + SGD via torch.compile
    python packages/mlp-torch/benchmarks/epoch.py --device cuda   # GPU, batch 64 and 1024

One epoch of 60 000 samples through 784-128-64-10 (ReLU, softmax, cross-entropy,
float32), timed as:

- products: the eight matrix products of each step alone (three forward, three weight
  gradients, two input gradients), in torch, on the same contiguous batches: the floor;
- mlp-torch SGD / Adam: `engine.train_batches`, everything included (the epoch's
  `index_select`, zero_grad, forward, `F.cross_entropy`, `loss.backward()`,
  `optimizer.step()`, the step losses), with torch.optim's default implementation and
  with `fused=True`; on CUDA also with the module through
  `torch.compile(mode="reduce-overhead")` (CUDA graphs), whose first epoch, which
  compiles, is reported on its own;
- DataLoader: the idiomatic loop, `DataLoader(TensorDataset(x, y), batch_size,
  shuffle=True)` over inputs already normalized, `nn.Sequential`, `nn.CrossEntropyLoss`,
  `torch.optim.SGD`;

and, on CPU, online learning (batch size 1, SGD) in µs per step. CPU goals: SGD ≤ 2 × the
products, Adam ≤ 3 ×, ≥ 1.5 × faster than the DataLoader loop, ≤ 250 µs per batch-1 step.
CUDA goals: an epoch at batch 64 in ≤ 50 ms, at batch 1024 in ≤ 5 ms.

Each figure is the best of `--repeats` rounds after a warm-up round, the loops of a round
interleaved, so that a busy machine slows them all alike and the ratios stay meaningful.
On CPU both the wall time and the process's CPU time are reported (other work on a busy
machine inflates the CPU time less); the load average before and after is printed, as a
note of the conditions.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import torch
from torch import nn

import mlp_torch
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

SIZES = (784, 128, 64, 10)
N = 60_000
ONLINE_STEPS = 5000
OPTIMIZERS = {"SGD": (Optimizer(name="sgd"), 0.01), "Adam": (Optimizer(name="adam"), 0.001)}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], object], device: torch.device) -> tuple[float, float]:
    """The wall time and the process's CPU time of one call of `run`."""
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    synchronize(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def best_of(runs: dict[str, Callable[[], object]], repeats: int, device) -> list[dict[str, float]]:
    """The best wall time and the best CPU time of each run over `repeats` interleaved
    rounds (after one warm-up)."""
    for run in runs.values():
        run()
    best = [dict.fromkeys(runs, float("inf")) for _ in range(2)]
    for _ in range(repeats):
        for name, run in runs.items():
            for clock, seconds in zip(best, timed(run, device), strict=True):
                clock[name] = min(clock[name], seconds)
    return best


def products_epoch(x: torch.Tensor, batch_size: int) -> Callable[[], None]:
    """The matrix products of one epoch of steps and nothing else."""
    device, dtype = x.device, x.dtype
    weights = [torch.randn(o, i, device=device, dtype=dtype) * 0.05 for i, o in pairwise(SIZES)]
    w1, w2, w3 = weights

    def run() -> None:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            h1 = xb @ w1.t()
            h2 = h1 @ w2.t()
            z = h2 @ w3.t()
            d2 = z @ w3  # z stands in for δ_3, which has its shape
            d1 = d2 @ w2
            for delta, h_in in ((z, h2), (d2, h1), (d1, xb)):
                torch.mm(delta.t(), h_in)  # the weight gradients

    return run


def dataloader_epoch(x: torch.Tensor, labels: torch.Tensor, batch_size: int, device):
    """The idiomatic PyTorch loop: a `TensorDataset` of the inputs already normalized,
    DataLoader, nn.Sequential, CrossEntropyLoss, SGD."""
    layers: list[nn.Module] = []
    for n_in, n_out in pairwise(SIZES):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(device)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, labels), batch_size=batch_size, shuffle=True
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=OPTIMIZERS["SGD"][1])

    def run() -> None:
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()

    return run


def engine_epoch(name: str, x, labels, batch_size: int, device, **options):
    """One epoch of `train_batches` with the optimizer called `name` (SGD or Adam)."""
    optimizer, lr = OPTIMIZERS[name]
    spec = ModelSpec(
        Network(layers=SIZES),
        training=Training(batch_size=batch_size, optimizer=optimizer, schedule=Schedule(lr=lr)),
    )
    engine = mlp_torch.make_engine(spec, x, labels, device=device, **options)
    order = epoch_batches(len(x), batch_size, 0, 0).order
    return lambda: engine.train_batches(order, batch_size, lr)


def print_times(best: dict[str, float], width: int = 26) -> None:
    for name, seconds in best.items():
        print(f"  {name:<{width}} {seconds * 1000:8.1f} ms")


def cpu_report(x: torch.Tensor, labels: torch.Tensor, repeats: int, compile_sgd: bool) -> None:
    device = torch.device("cpu")
    x_np, labels_np = x.numpy(), labels.numpy()
    runs = {"products": products_epoch(x, 64)}
    for name in OPTIMIZERS:
        runs[f"mlp-torch {name}"] = engine_epoch(name, x_np, labels_np, 64, device)
        runs[f"mlp-torch {name}, fused"] = engine_epoch(
            name, x_np, labels_np, 64, device, fused=True
        )
    if compile_sgd:  # the first epoch compiles: time it apart
        compiled = engine_epoch("SGD", x_np, labels_np, 64, device, compile_mode="default")
        print(f"mlp-torch SGD, compiled: first epoch {timed(compiled, device)[0]:.1f} s")
        runs["mlp-torch SGD, compiled"] = compiled
    runs["DataLoader"] = dataloader_epoch(x, labels, 64, device)
    online = {
        f"SGD{suffix}": engine_epoch(
            "SGD", x_np[:ONLINE_STEPS], labels_np[:ONLINE_STEPS], 1, device, **options
        )
        for suffix, options in (("", {}), (", fused", {"fused": True}))
    }
    print(f"CPU, {torch.get_num_threads()} thread(s), one epoch of {N} at batch 64:")
    times = best_of(runs, repeats, device)
    online_times = best_of(online, repeats, device)
    for clock, best, online_best in zip(("wall", "CPU"), times, online_times, strict=True):
        print(f" {clock} time:")
        print_times(best)
        products = best["products"]
        for suffix in ("", ", fused"):
            sgd, adam = best[f"mlp-torch SGD{suffix}"], best[f"mlp-torch Adam{suffix}"]
            print(f"  torch.optim {'fused' if suffix else 'default'}:")
            print(f"   SGD / products         = {sgd / products:5.2f} (goal ≤ 2)")
            print(f"   Adam / products        = {adam / products:5.2f} (goal ≤ 3)")
            print(f"   DataLoader / SGD       = {best['DataLoader'] / sgd:5.2f} (goal ≥ 1.5)")
        for name, seconds in online_best.items():
            per_step = seconds / ONLINE_STEPS * 1e6
            print(f"  batch 1, {name:<10} {per_step:6.1f} µs per step (goal ≤ 250)")


def cuda_report(x_cpu: torch.Tensor, labels: torch.Tensor, repeats: int, _: bool) -> None:
    device = torch.device("cuda")
    print(f"CUDA: {torch.cuda.get_device_name(device)}, torch {torch.__version__}, epoch of {N}:")
    x_np, labels_np = x_cpu.numpy(), labels.numpy()
    x = x_cpu.to(device)
    for batch_size, goal in ((64, 50), (1024, 5)):
        runs = {"products": products_epoch(x, batch_size)}
        first_epochs = {}
        for name in OPTIMIZERS:
            for label, options in (
                ("", {}),
                (", fused", {"fused": True}),
                (", compiled", {"compile_mode": "reduce-overhead"}),
                (", fused, compiled", {"fused": True, "compile_mode": "reduce-overhead"}),
            ):
                run = engine_epoch(name, x_np, labels_np, batch_size, device, **options)
                if "compile_mode" in options:  # the first epoch compiles: time it apart
                    first_epochs[f"mlp-torch {name}{label}"] = timed(run, device)[0]
                runs[f"mlp-torch {name}{label}"] = run
        runs["DataLoader"] = dataloader_epoch(x_cpu, labels, batch_size, device)
        best, _ = best_of(runs, repeats, device)
        print(f" batch {batch_size} (goal ≤ {goal} ms):")
        print_times(best, width=32)
        for name, seconds in first_epochs.items():
            print(f"  {'first epoch, ' + name:<32} {seconds * 1000:8.1f} ms (compiles)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--compile", action="store_true", help="CPU: also SGD through torch.compile (slow)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)  # the speed does not depend on the values
    images = rng.integers(0, 256, (N, 784), dtype=np.uint8)
    x = torch.from_numpy(images.astype(np.float32) / 255)
    labels = torch.from_numpy(rng.integers(0, SIZES[-1], N))
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    report = cuda_report if args.device == "cuda" else cpu_report
    report(x, labels, args.repeats, args.compile)
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
