"""The README example's epochs on the default BLAS thread count and on others, in turn.

Trains the README's spec (784-128-64-10 ReLU/softmax, Adam, batch 64, all 60 000 MNIST
images, through mnist-data: set MNIST_MIRROR to a local copy) for `--epochs` epochs with
`mlp_numpy.train(..., threads=None)` (the default) and then with each count of
`--threads`, `--rounds` times, and prints each epoch's training time.

    python benchmarks/threads.py [--epochs 2] [--rounds 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import os

import mlp_numpy
import mnist_data
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    images, labels = mnist_data.load("train")
    test_images, test_labels = mnist_data.load("test")
    x = mnist_data.flatten(mnist_data.standardize(images))
    x_test = mnist_data.flatten(mnist_data.standardize(test_images))
    spec = ModelSpec(
        Network(layers=(784, 128, 64, 10), hidden="relu", output="softmax"),
        training=Training(
            batch_size=64,
            epochs=args.epochs,
            optimizer=Optimizer("adam"),
            schedule=Schedule(lr=0.001),
        ),
    )
    for _ in range(args.rounds):
        print(f"load average {os.getloadavg()[0]:.1f}")
        for threads in [None, *args.threads]:
            _, history = mlp_numpy.train(
                spec, x, labels, test=(x_test, test_labels), threads=threads
            )
            seconds = ", ".join(f"{record.seconds:.2f} s" for record in history.records)
            name = "default" if threads is None else f"{threads} threads"
            print(f"  {name} ({mlp_numpy.threads.training_threads(threads)}): epochs {seconds}")


if __name__ == "__main__":
    main()
