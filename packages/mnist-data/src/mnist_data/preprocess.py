"""Turning uint8 MNIST arrays into model inputs, and choosing subsets of them.

Every random choice takes an explicit seed and uses ``numpy.random.default_rng(seed)``,
so the same seed gives the same subset on every machine. Subsets keep file order.
"""

import numpy as np

MEAN = 0.1307  # training-set pixel mean, on the [0, 1] scale
STD = 0.3081  # training-set pixel standard deviation, on the [0, 1] scale
NUM_CLASSES = 10

Pair = tuple[np.ndarray, np.ndarray]


def normalize(images: np.ndarray) -> np.ndarray:
    """x / 255 as float32, so pixels lie in [0, 1]; the shape is kept."""
    return np.asarray(images, dtype=np.float32) / np.float32(255)


def standardize(images: np.ndarray, mean: float = MEAN, std: float = STD) -> np.ndarray:
    """(x / 255 − mean) / std as float32; the defaults give the training set mean 0, std 1."""
    return (normalize(images) - np.float32(mean)) / np.float32(std)


def flatten(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) -> (N, 784), row-major (pixel index = 28·row + column)."""
    return np.asarray(images).reshape(len(images), -1)


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Labels (N,) -> float32 (N, num_classes) with t[i, labels[i]] = 1 and 0 elsewhere."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-d, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, found {labels.min()}..{labels.max()}"
        )
    targets = np.zeros((len(labels), num_classes), dtype=np.float32)
    targets[np.arange(len(labels)), labels] = 1
    return targets


def _check_size(n: int, total: int, what: str = "n") -> None:
    if not 0 <= n <= total:
        raise ValueError(f"{what} = {n} is outside 0..{total}, the number of items")


def first_n(images: np.ndarray, labels: np.ndarray, n: int) -> Pair:
    """The first `n` items in file order."""
    _check_size(n, len(labels))
    return images[:n], labels[:n]


def random_subset(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> Pair:
    """`n` items drawn uniformly without replacement, returned in file order."""
    _check_size(n, len(labels))
    chosen = np.sort(np.random.default_rng(seed).choice(len(labels), size=n, replace=False))
    return images[chosen], labels[chosen]


def stratified_subset(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> Pair:
    """`n` items whose class counts follow the full set's class proportions, in file order.

    Class c gets ⌊n·count_c / N⌋ items; the remaining items go to the classes with the
    largest remainders (ties to the smaller class index). Within a class the items
    are drawn uniformly without replacement.
    """
    _check_size(n, len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = n * counts / len(labels)
    quota = np.floor(exact).astype(np.int64)
    leftover = n - int(quota.sum())
    quota[np.argsort(-(exact - quota), kind="stable")[:leftover]] += 1
    per_class = [
        rng.choice(np.flatnonzero(labels == c), size=q, replace=False)
        for c, q in zip(classes, quota, strict=True)
    ]
    chosen = np.sort(np.concatenate(per_class)) if per_class else np.zeros(0, dtype=np.int64)
    return images[chosen], labels[chosen]


def train_val_split(
    images: np.ndarray, labels: np.ndarray, n_val: int, seed: int = 0
) -> tuple[Pair, Pair]:
    """Split into ((train_images, train_labels), (val_images, val_labels)), `n_val` for validation.

    A seeded permutation picks the validation items; both parts keep file order.
    """
    _check_size(n_val, len(labels), "n_val")
    permutation = np.random.default_rng(seed).permutation(len(labels))
    val = np.sort(permutation[:n_val])
    train = np.sort(permutation[n_val:])
    return (images[train], labels[train]), (images[val], labels[val])
