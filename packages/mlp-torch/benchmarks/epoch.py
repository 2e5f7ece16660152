"""How close is an mlp-torch epoch to the matrix products it cannot avoid, and how does it
compare with the idiomatic PyTorch training loop? All figures come from one run.

    python packages/mlp-torch/benchmarks/epoch.py                 # CPU, one thread
    python packages/mlp-torch/benchmarks/epoch.py --threads 2
    python packages/mlp-torch/benchmarks/epoch.py --device cuda   # GPU goals

CPU: one epoch of 60 000 samples through 784-128-64-10 (ReLU, softmax, cross-entropy,
SGD, float32) at batch 64, timed three ways:

- mlp-torch: `engine.train_batches`, everything included (gather, steps, losses);
- products: the eight matrix products of each step alone (three forward, three weight
  gradients, two input gradients), in torch, on the same contiguous batches;
- DataLoader: the idiomatic loop, `DataLoader(TensorDataset(x, y), batch_size=64,
  shuffle=True)` with `nn.Sequential`, `nn.CrossEntropyLoss` and `torch.optim.SGD`;

then online learning, batch size 1, in µs per step. Goals: mlp-torch ≤ 1.5 × products,
≥ 3 × faster than DataLoader, ≤ 100 µs per step at batch 1.

CUDA: the epoch at batch 64 and at batch 1024, eager and with the step captured as a CUDA
graph (`cuda_graphs=True`). Goals: ≤ 30 ms at batch 64, ≤ 5 ms at batch 1024.

Each figure is the best of `--repeats` runs, the runs of the different loops interleaved,
so that a busy machine slows them all alike and the ratios stay meaningful. On CPU both
wall time and the process's CPU time are reported.
"""

from __future__ import annotations

import argparse
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
LR = 0.01


def make_spec(batch_size: int) -> ModelSpec:
    return ModelSpec(
        Network(layers=SIZES),
        training=Training(
            batch_size=batch_size, optimizer=Optimizer(name="sgd"), schedule=Schedule(lr=LR)
        ),
    )


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], object], device: torch.device, clock) -> float:
    synchronize(device)
    start = clock()
    run()
    synchronize(device)
    return clock() - start


def best_of(
    runs: dict[str, Callable[[], object]], repeats: int, device, clock=time.perf_counter
) -> dict[str, float]:
    """The best time of each run over `repeats` interleaved rounds (after one warm-up)."""
    for run in runs.values():
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            best[name] = min(best[name], timed(run, device, clock))
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
    """The idiomatic PyTorch loop: DataLoader, nn.Sequential, CrossEntropyLoss, SGD."""
    layers = []
    for i, (n_in, n_out) in enumerate(pairwise(SIZES)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(device)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, labels), batch_size=batch_size, shuffle=True
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def run() -> None:
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()

    return run


def engine_epoch(x: np.ndarray, labels: np.ndarray, batch_size: int, device, **options):
    engine = mlp_torch.make_engine(make_spec(batch_size), x, labels, device=device, **options)
    order = epoch_batches(len(x), batch_size, 0, 0).order
    return lambda: engine.train_batches(order, batch_size, LR)


def cpu_report(x: np.ndarray, labels: np.ndarray, repeats: int) -> None:
    """Wall time, and the process's CPU time, which other work on a busy machine inflates
    less (with one thread, CPU time ≈ the time this process computed)."""
    device = torch.device("cpu")
    x_t, labels_t = torch.from_numpy(x), torch.from_numpy(labels)
    runs = {
        "mlp-torch": engine_epoch(x, labels, 64, device),
        "products": products_epoch(x_t, 64),
        "DataLoader": dataloader_epoch(x_t, labels_t, 64, device),
    }
    steps = 5000
    online = {"online": engine_epoch(x[:steps], labels[:steps], 1, device)}
    print(f"CPU, {torch.get_num_threads()} thread(s), one epoch of {N} at batch 64:")
    for clock_name, clock in (("wall", time.perf_counter), ("CPU", time.process_time)):
        best = best_of(runs, repeats, device, clock)
        print(f" {clock_name} time:")
        for name, seconds in best.items():
            print(f"  {name:<11} {seconds * 1000:8.1f} ms")
        ours, products, loader = best["mlp-torch"], best["products"], best["DataLoader"]
        print(f"  mlp-torch / products    = {ours / products:.2f} (goal ≤ 1.5)")
        print(f"  DataLoader / mlp-torch  = {loader / ours:.2f} (goal ≥ 3)")
        seconds = best_of(online, repeats, device, clock)["online"]
        print(f"  online learning, batch 1: {seconds / steps * 1e6:.1f} µs per step (goal ≤ 100)")


def cuda_report(x: np.ndarray, labels: np.ndarray, repeats: int) -> None:
    device = torch.device("cuda")
    print(f"CUDA: {torch.cuda.get_device_name(device)}, one epoch of {N}:")
    x_t = torch.from_numpy(x).to(device)
    labels_t = torch.from_numpy(labels).to(device)
    for batch_size, goal in ((64, 30), (1024, 5)):
        best = best_of(
            {
                "mlp-torch": engine_epoch(x, labels, batch_size, device),
                "mlp-torch, CUDA graph": engine_epoch(
                    x, labels, batch_size, device, cuda_graphs=True
                ),
                "mlp-torch, bf16": engine_epoch(
                    x, labels, batch_size, device, mixed_precision=True
                ),
                "products": products_epoch(x_t, batch_size),
                "DataLoader": dataloader_epoch(x_t.cpu(), labels_t.cpu(), batch_size, device),
            },
            repeats,
            device,
        )
        print(f"  batch {batch_size} (goal ≤ {goal} ms):")
        for name, seconds in best.items():
            print(f"    {name:<22} {seconds * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.random((N, SIZES[0]), dtype=np.float32)  # the speed does not depend on the values
    labels = rng.integers(0, SIZES[-1], N)
    if args.device == "cuda":
        cuda_report(x, labels, args.repeats)
    else:
        cpu_report(x, labels, args.repeats)


if __name__ == "__main__":
    main()
