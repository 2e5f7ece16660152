"""The training loop a from-scratch NumPy tutorial writes, to measure the engine against.

Plain SGD on ReLU hidden layers and a softmax output with cross-entropy: weights of shape
(in, out), `@`, ReLU′ as a mask, the loss as −mean log(p + ε), each parameter updated on
its own. The engine (engine.py) computes the same update; `benchmarks/epoch.py` and
`mlp-compare bench` time the two side by side.
"""

from __future__ import annotations

import numpy as np

from .layer import Layer


class TutorialLoop:
    """Plain SGD at rate `lr` over the rows of x with one-hot targets y, from `layers`."""

    def __init__(self, x: np.ndarray, y: np.ndarray, layers: list[Layer], lr: float) -> None:
        self.x, self.y, self.lr = x, y, lr
        self.weights = [w.T.copy() for w, _ in layers]  # (in, out)
        self.biases = [np.zeros(w.shape[0], w.dtype) if b is None else b.copy() for w, b in layers]
        self.loss = float("nan")

    def __call__(self, order: np.ndarray, batch_size: int) -> None:
        """One step per full batch of consecutive `order` entries."""
        weights, biases, last = self.weights, self.biases, len(self.weights) - 1
        for start in range(0, len(order) - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            x, y = self.x[rows], self.y[rows]
            activations, pre = [x], []
            for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
                z = activations[-1] @ w + b
                pre.append(z)
                activations.append(np.maximum(0, z) if i < last else z)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            self.loss = float(-np.mean(np.sum(y * np.log(p + 1e-9), axis=1)))
            delta = (p - y) / len(x)
            for i in range(last, -1, -1):
                grad_w = activations[i].T @ delta
                grad_b = delta.sum(axis=0)
                if i > 0:
                    delta = (delta @ weights[i].T) * (pre[i - 1] > 0)
                weights[i] -= self.lr * grad_w
                biases[i] -= self.lr * grad_b
