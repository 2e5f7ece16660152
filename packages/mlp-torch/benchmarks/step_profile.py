"""Where an mlp-torch step's time goes on the CPU: torch.profiler over 200 steps of the
engine (784-128-64-10, SGD, one thread), at batch 1 and at batch 64, after a warm-up
epoch. It prints PyTorch's table of operators by their own CPU time, and the share of
the step spent in the matrix products (aten::mm and aten::addmm), the autograd engine's
nodes and the optimizer.

    python packages/mlp-torch/benchmarks/step_profile.py [--rows 15]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

import mlp_torch
from mlp_numpy.batches import epoch_batches
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.timing import machine

SIZES = (784, 128, 64, 10)
STEPS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=15, help="operators shown")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, one thread; {machine()}")
    rng = np.random.default_rng(0)
    x = rng.random((STEPS * 64, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, SIZES[-1], len(x))
    for batch_size in (1, 64):
        spec = ModelSpec(
            Network(layers=SIZES),
            training=Training(
                batch_size=batch_size, optimizer=Optimizer("sgd"), schedule=Schedule(lr=0.01)
            ),
        )
        engine = mlp_torch.make_engine(spec, x, labels, device="cpu")
        order = epoch_batches(len(x), batch_size, 0, 0).order[: STEPS * batch_size]
        engine.train_batches(order, batch_size, 0.01)  # warm-up
        with profile(activities=[ProfilerActivity.CPU]) as profiled:
            engine.train_batches(order, batch_size, 0.01)
        events = profiled.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        products = sum(
            e.self_cpu_time_total for e in events if e.key in ("aten::mm", "aten::addmm")
        )
        print(f"\nbatch {batch_size}: {total / STEPS:.0f} µs of CPU per step under the profiler, "
              f"{products / total:.0%} of it in aten::mm and aten::addmm")  # fmt: skip
        print(events.table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
