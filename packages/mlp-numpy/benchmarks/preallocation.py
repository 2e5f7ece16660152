"""Does writing every array of a step into a preallocated array (`out=`) pay?

The engine's step allocates its activations, deltas and outputs anew each step and
writes only the gradients in place (into the flat array the optimizer updates). This
times that form against the same NumPy calls with every array preallocated, on the same
batches, for 784-128-64-10 at batch 64 and 784-128-10 at batch 1 (float32, plain SGD, one
BLAS thread), as the best and the median of `--repeats` interleaved runs.

    python benchmarks/preallocation.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits


class Step:
    """Plain SGD on a ReLU/softmax network, its arrays allocated or preallocated."""

    def __init__(self, sizes: tuple[int, ...], rows: int, preallocated: bool, seed: int = 0):
        rng = np.random.default_rng(seed)
        shapes = list(zip(sizes[1:], sizes[:-1], strict=True))
        self.weights = [rng.normal(scale=0.05, size=s).astype(np.float32) for s in shapes]
        self.biases = [np.zeros(out, np.float32) for out, _ in shapes]
        self.grad_w = [np.empty_like(w) for w in self.weights]
        self.grad_b = [np.empty_like(b) for b in self.biases]
        self.preallocated = preallocated
        self.z = [np.empty((rows, out), np.float32) for out, _ in shapes]
        self.deltas = [np.empty((rows, out), np.float32) for out, _ in shapes]
        self.a = np.empty((rows, sizes[-1]), np.float32)
        self.ones = np.ones(rows, np.float32)

    def __call__(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        out = self.preallocated
        inputs, last = [x], len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = np.dot(inputs[-1], w.T, out=self.z[i] if out else None)
            z += b
            if i < last:
                np.maximum(z, 0, out=z)
            inputs.append(z)
        a = np.subtract(z, z.max(axis=1, keepdims=True), out=self.a if out else None)
        np.exp(a, out=a)
        a /= a.sum(axis=1, keepdims=True)
        delta = np.subtract(a, y, out=self.deltas[last] if out else None)
        delta *= 1 / len(x)
        for i in range(last, -1, -1):
            np.dot(delta.T, inputs[i], out=self.grad_w[i])
            np.dot(self.ones, delta, out=self.grad_b[i])
            if i > 0:
                delta = np.dot(delta, self.weights[i], out=self.deltas[i - 1] if out else None)
                delta *= inputs[i] > 0
        for w, g in zip(self.weights + self.biases, self.grad_w + self.grad_b, strict=True):
            w -= lr * g


def compare(sizes: tuple[int, ...], rows: int, steps: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((60_000, sizes[0]), dtype=np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], 60_000)]
    forms = {"allocated": Step(sizes, rows, False), "preallocated": Step(sizes, rows, True)}
    seconds: dict[str, list[float]] = {name: [] for name in forms}
    for _ in range(repeats):
        order = rng.permutation(60_000)
        for name, step in forms.items():
            start = time.process_time()
            for s in range(steps):
                batch = order[s * rows : (s + 1) * rows]
                step(x.take(batch, axis=0), y.take(batch, axis=0), 0.01)
            seconds[name].append((time.process_time() - start) / steps * 1e6)
    label = "-".join(map(str, sizes))
    for name, times in seconds.items():
        print(f"  {label} batch {rows}, {name:>12}: best {min(times):.1f} µs, "
              f"median {np.median(times):.1f} µs per step (CPU time)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):
        compare((784, 128, 64, 10), 64, 900, args.repeats)
        compare((784, 128, 10), 1, 2000, args.repeats)


if __name__ == "__main__":
    main()
