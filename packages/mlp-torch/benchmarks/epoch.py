"""How close is an mlp-torch epoch to the matrix products it cannot avoid, and how does it
compare with the idiomatic `DataLoader` loop? All figures and ratios come from one run.

    python packages/mlp-torch/benchmarks/epoch.py                 # CPU, one thread
    python packages/mlp-torch/benchmarks/epoch.py --compile       # + torch.compile options
    python packages/mlp-torch/benchmarks/epoch.py --device cuda   # GPU, batch 64 and 1024

One epoch of 60 000 samples through 784-128-64-10 (ReLU, softmax, cross-entropy,
float32), timed as:

- products alone: the eight matrix products of each of the epoch's 937 full steps (three
  forward, three weight gradients, two input gradients), as `nn.Linear` computes them
  (`mlp_torch.backend.products_steps`): the floor;
- mlp-torch SGD / Adam: `engine.train_batches`, everything included (the epoch's
  `index_select`, zero_grad, forward, `F.cross_entropy`, `loss.backward()`,
  `optimizer.step()`, the step losses), with the engine's defaults (Adam fused on the
  CPU), and with torch.optim's other implementation beside;
- DataLoader loop: the idiomatic loop (`mlp_torch.backend.tutorial_loop`:
  `DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)`, `nn.Sequential`,
  `nn.CrossEntropyLoss`, `torch.optim.SGD`), and the `DataLoader`'s batches alone, which
  bound how much faster any loop can be than it;
- with `--compile`: the module through `torch.compile` (the engine's `compile_mode`), and
  the optimizer step through `torch.compile` as in PyTorch's tutorial "Compiling the
  optimizer with torch.compile"; their first epochs, which compile, are not timed;

and, on CPU, online learning (batch size 1, SGD, 5000 steps) in µs per step. CPU targets:
SGD ≤ 2 × the products, Adam ≤ 2.5 ×, ≥ 1.5 × faster than the DataLoader loop, ≤ 250 µs
per batch-1 step, every epoch measure's rounds within 1.15 × of each other. CUDA goals:
an epoch at batch 64 in ≤ 50 ms, at batch 1024 in ≤ 5 ms.

Each figure is the best of `--repeats` interleaved rounds after a warm-up
(`mlp_numpy.timing`), by the wall clock and by the process's CPU time.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch

import mlp_torch
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
from mlp_torch.backend import products_steps, tutorial_loop

SIZES = (784, 128, 64, 10)
N = 60_000
ONLINE_STEPS = 5000
RATES = {"SGD": 0.01, "Adam": 0.001}


def engine_epoch(
    name: str, x: np.ndarray, labels: np.ndarray, batch_size: int, device: str, **options
) -> tuple[Callable[[], object], mlp_torch.engine.TorchEngine]:
    """One epoch of `train_batches` with the optimizer called `name` (SGD or Adam), and
    the engine."""
    spec = ModelSpec(
        Network(layers=SIZES),
        training=Training(
            batch_size=batch_size,
            optimizer=Optimizer(name=name.lower()),
            schedule=Schedule(lr=RATES[name]),
        ),
    )
    engine = mlp_torch.make_engine(spec, x, labels, device=device, **options)
    order = epoch_batches(len(x), batch_size, 0, 0).order
    return lambda: engine.train_batches(order, batch_size, RATES[name]), engine


def compiled_optimizer_step(engine: mlp_torch.engine.TorchEngine) -> None:
    """The engine's `optimizer.step` through `torch.compile`, as PyTorch's tutorial
    "Compiling the optimizer with torch.compile" writes it."""
    optimizer = engine.optimizer
    step_of_torch_optim = optimizer.step

    @torch.compile(fullgraph=False)
    def step() -> None:
        step_of_torch_optim()

    optimizer.step = step  # type: ignore[method-assign]


def cpu_report(x: np.ndarray, labels: np.ndarray, repeats: int, compile_options: bool) -> None:
    batches = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(labels)),
        batch_size=64,
        shuffle=True,
    )
    products = products_steps(list(SIZES), 64, "cpu")
    epochs: dict[str, Callable[[], object]] = {
        "products alone": lambda: products(N // 64),
        "mlp-torch SGD": engine_epoch("SGD", x, labels, 64, "cpu")[0],
        "mlp-torch SGD, fused": engine_epoch("SGD", x, labels, 64, "cpu", fused=True)[0],
        "mlp-torch Adam (fused)": engine_epoch("Adam", x, labels, 64, "cpu")[0],
        "mlp-torch Adam, fused=False": engine_epoch("Adam", x, labels, 64, "cpu", fused=False)[0],
        "DataLoader loop, SGD": tutorial_loop(list(SIZES), x, labels, 64, "cpu"),
        "DataLoader's batches alone": lambda: sum(1 for _ in batches),
    }
    if compile_options:
        compiled, _ = engine_epoch("SGD", x, labels, 64, "cpu", compile_mode="default")
        epochs["mlp-torch SGD, module compiled"] = compiled
        for name in RATES:
            run, engine = engine_epoch(name, x, labels, 64, "cpu", fused=False)
            compiled_optimizer_step(engine)
            epochs[f"mlp-torch {name}, optimizer step compiled"] = run
    online, _ = engine_epoch("SGD", x[:ONLINE_STEPS], labels[:ONLINE_STEPS], 1, "cpu")
    steps = {"batch 1, mlp-torch SGD": online}
    timings = interleaved({**epochs, **steps}, repeats)
    print(f"CPU, {torch.get_num_threads()} thread(s), one epoch of {N} at batch 64; best of "
          f"{repeats} interleaved rounds after a warm-up")  # fmt: skip
    print(TABLE_HEADER)
    for name in epochs:
        print(timing_row(name, timings[name], 1e3, "ms"))
    for name in steps:
        print(timing_row(f"{name}, per step", timings[name], 1e6 / ONLINE_STEPS, "µs"))
    t = timings
    print("targets (wall clock, CPU time in brackets):")
    print(ratio_row("SGD / products alone", t["mlp-torch SGD"], t["products alone"], 2.0))
    print(ratio_row("Adam / products alone", t["mlp-torch Adam (fused)"], t["products alone"], 2.5))
    print(per_step_row("batch-1 SGD step (µs)", t["batch 1, mlp-torch SGD"], ONLINE_STEPS, 250))
    loop, sgd = t["DataLoader loop, SGD"], t["mlp-torch SGD"]
    print(ratio_row("DataLoader loop / mlp-torch SGD", loop, sgd, 1.5, at_most=False))
    print(
        spread_row({name: t[name] for name in epochs if name.startswith(("mlp-torch", "products"))})
    )
    floor = t["products alone"].best_cpu
    bound = (floor + t["DataLoader's batches alone"].best_cpu) / floor
    print(f"  (an engine at the products alone would be {bound:.2f} × faster than the "
          "DataLoader loop, in CPU time: its batches alone cost that much)")  # fmt: skip


def cuda_report(x: np.ndarray, labels: np.ndarray, repeats: int, _: bool) -> None:
    device = torch.device("cuda")
    print(f"CUDA: {torch.cuda.get_device_name(device)}, torch {torch.__version__}, epoch of {N}:")
    for batch_size, goal in ((64, 50), (1024, 5)):
        products = products_steps(list(SIZES), batch_size, "cuda")
        steps = N // batch_size
        runs: dict[str, Callable[[], object]] = {"products": lambda p=products, s=steps: p(s)}
        for name in RATES:
            for label, options in (
                ("", {}),
                (", fused", {"fused": True}),
                (", compiled", {"compile_mode": "reduce-overhead"}),
                (", fused, compiled", {"fused": True, "compile_mode": "reduce-overhead"}),
            ):
                runs[f"mlp-torch {name}{label}"] = engine_epoch(
                    name, x, labels, batch_size, "cuda", **options
                )[0]
        runs["DataLoader"] = tutorial_loop(list(SIZES), x, labels, batch_size, "cuda")
        timings = interleaved(runs, repeats)
        print(f" batch {batch_size} (goal ≤ {goal} ms), the first epoch (compiling) untimed:")
        print(TABLE_HEADER)
        for name, timing in timings.items():
            print(timing_row(name, timing, 1e3, "ms"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--compile", action="store_true", help="also the torch.compile options (slow to compile)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"mlp-torch, torch {torch.__version__}; {machine()}")
    rng = np.random.default_rng(0)  # the speed does not depend on the values
    x = rng.integers(0, 256, (N, SIZES[0]), dtype=np.uint8).astype(np.float32) / 255
    labels = rng.integers(0, SIZES[-1], N)
    report = cuda_report if args.device == "cuda" else cpu_report
    report(x, labels, args.repeats, args.compile)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
