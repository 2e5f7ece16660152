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
- DataLoader: the idiomatic loop at its fastest, `DataLoader(TensorDataset(x, y),
  batch_size=64, shuffle=True)` over the float32 inputs already normalized, with
  `nn.Sequential`, `nn.CrossEntropyLoss` and `torch.optim.SGD`;
- MNIST example: the loop of PyTorch's own MNIST example (pytorch/examples, mnist/main.py)
  with this network: a dataset that holds the uint8 images and converts each sample when
  it is read, as torchvision's `MNIST` with `ToTensor()` and `Normalize((0.1307,),
  (0.3081,))` does (uint8 → float32 / 255 → (x − 0.1307) / 0.3081, shape (1, 28, 28)),
  `DataLoader(batch_size=64, shuffle=True)`, a model that flattens, `F.cross_entropy`,
  `torch.optim.SGD` and `loss.item()` every 10 batches (the example's log interval);
  written with plain torch, as torchvision is not a dependency, and without the PIL
  image torchvision makes of each sample, so if anything it is faster than the example;

then online learning, batch size 1, in µs per step. Goals: mlp-torch ≤ 1.5 × products,
≥ 3 × faster than the idiomatic loop, ≤ 100 µs per step at batch 1. All loops train on the
same numbers: random uint8 images, and the float32 inputs derived from them by the same
normalization.

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
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the normalization of PyTorch's MNIST example
LOG_INTERVAL = 10  # the example's default: the loss is read every 10 batches


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


def mlp_layers() -> list[nn.Module]:
    """784-128-64-10 with ReLU as `nn.Linear` and `nn.ReLU` modules, as an idiomatic loop
    writes it."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(SIZES)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return layers


def dataloader_epoch(x: torch.Tensor, labels: torch.Tensor, batch_size: int, device):
    """The idiomatic PyTorch loop at its fastest: a `TensorDataset` of the inputs already
    normalized, DataLoader, nn.Sequential, CrossEntropyLoss, SGD."""
    model = nn.Sequential(*mlp_layers()).to(device)
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


def to_input(images: torch.Tensor) -> torch.Tensor:
    """What torchvision's `ToTensor()` then `Normalize((0.1307,), (0.3081,))` make of uint8
    pixels: float32 / 255, then (x − 0.1307) / 0.3081."""
    return images.to(torch.float32).div(255).sub_(MNIST_MEAN).div_(MNIST_STD)


class UInt8Images(torch.utils.data.Dataset):
    """torchvision's `MNIST` dataset with the example's transform, in plain torch: it holds
    the uint8 images and converts one sample each time it is read."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_input(self.images[index].unsqueeze(0)), int(self.labels[index])


def mnist_example_epoch(images: torch.Tensor, labels: torch.Tensor, batch_size: int, device):
    """The training loop of PyTorch's MNIST example (pytorch/examples, mnist/main.py) with
    this network and SGD: samples converted from uint8 one by one, `F.cross_entropy`, and
    `loss.item()` every `LOG_INTERVAL` batches."""
    model = nn.Sequential(nn.Flatten(), *mlp_layers()).to(device)
    loader = torch.utils.data.DataLoader(
        UInt8Images(images, labels), batch_size=batch_size, shuffle=True
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def run() -> None:
        model.train()
        for batch, (data, target) in enumerate(loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(data), target)
            loss.backward()
            optimizer.step()
            if batch % LOG_INTERVAL == 0:
                loss.item()

    return run


def engine_epoch(x: np.ndarray, labels: np.ndarray, batch_size: int, device, **options):
    engine = mlp_torch.make_engine(make_spec(batch_size), x, labels, device=device, **options)
    order = epoch_batches(len(x), batch_size, 0, 0).order
    return lambda: engine.train_batches(order, batch_size, LR)


def cpu_report(images: torch.Tensor, labels: torch.Tensor, repeats: int) -> None:
    """Wall time, and the process's CPU time, which other work on a busy machine inflates
    less (with one thread, CPU time ≈ the time this process computed)."""
    device = torch.device("cpu")
    x_t = to_input(images).view(len(images), -1)
    x, labels_np = x_t.numpy(), labels.numpy()
    runs = {
        "mlp-torch": engine_epoch(x, labels_np, 64, device),
        "products": products_epoch(x_t, 64),
        "DataLoader": dataloader_epoch(x_t, labels, 64, device),
        "MNIST example": mnist_example_epoch(images, labels, 64, device),
    }
    steps = 5000
    online = {"online": engine_epoch(x[:steps], labels_np[:steps], 1, device)}
    print(f"CPU, {torch.get_num_threads()} thread(s), one epoch of {N} at batch 64:")
    for clock_name, clock in (("wall", time.perf_counter), ("CPU", time.process_time)):
        best = best_of(runs, repeats, device, clock)
        print(f" {clock_name} time:")
        for name, seconds in best.items():
            print(f"  {name:<14} {seconds * 1000:8.1f} ms")
        ours = best["mlp-torch"]
        print(f"  mlp-torch / products        = {ours / best['products']:.2f} (goal ≤ 1.5)")
        for loop in ("DataLoader", "MNIST example"):
            print(f"  {loop + ' / mlp-torch':<27} = {best[loop] / ours:.2f} (goal ≥ 3)")
        seconds = best_of(online, repeats, device, clock)["online"]
        print(f"  online learning, batch 1: {seconds / steps * 1e6:.1f} µs per step (goal ≤ 100)")


def cuda_report(images: torch.Tensor, labels: torch.Tensor, repeats: int) -> None:
    device = torch.device("cuda")
    print(f"CUDA: {torch.cuda.get_device_name(device)}, one epoch of {N}:")
    x_cpu = to_input(images).view(len(images), -1)
    x, labels_np = x_cpu.numpy(), labels.numpy()
    x_t = x_cpu.to(device)
    for batch_size, goal in ((64, 30), (1024, 5)):
        best = best_of(
            {
                "mlp-torch": engine_epoch(x, labels_np, batch_size, device),
                "mlp-torch, CUDA graph": engine_epoch(
                    x, labels_np, batch_size, device, cuda_graphs=True
                ),
                "mlp-torch, bf16": engine_epoch(
                    x, labels_np, batch_size, device, mixed_precision=True
                ),
                "products": products_epoch(x_t, batch_size),
                "DataLoader": dataloader_epoch(x_cpu, labels, batch_size, device),
                "MNIST example": mnist_example_epoch(images, labels, batch_size, device),
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
    rng = np.random.default_rng(0)  # the speed does not depend on the values
    images = torch.from_numpy(rng.integers(0, 256, (N, 28, 28), dtype=np.uint8))
    labels = torch.from_numpy(rng.integers(0, SIZES[-1], N))
    report = cuda_report if args.device == "cuda" else cpu_report
    report(images, labels, args.repeats)


if __name__ == "__main__":
    main()
