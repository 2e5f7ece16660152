"""Each optimizer, step by step, against a plain reference written from the formulas
of docs/model-spec.md (per element, in float64, no rearrangement)."""

import numpy as np
import pytest

from mlp_numpy.optimizers import make_optimizer
from mlp_numpy.spec import Optimizer

STEPS = 5
LR = 0.05


def gradients(size):
    rng = np.random.default_rng(1)
    return [rng.normal(size=size) for _ in range(STEPS)]


def run(spec, w0, grads, dtype=np.float64):
    w = w0.astype(dtype)
    optimizer = make_optimizer(spec, w)
    trajectory = []
    for g in grads:
        optimizer.step(w, g.astype(dtype), LR)
        trajectory.append(w.astype(np.float64))
    return trajectory


def reference_sgd(w0, grads, momentum=0.0, nesterov=False, weight_decay=0.0):
    w, v, out = w0.copy(), np.zeros_like(w0), []
    for g in grads:
        g = g + weight_decay * w
        if momentum:
            v = momentum * v + g
            g = g + momentum * v if nesterov else v
        w = w - LR * g
        out.append(w)
    return out


def reference_adam(w0, grads, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    w, m, v, out = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        w = w - LR * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


CASES = [
    (Optimizer("sgd"), {}),
    (Optimizer("sgd", weight_decay=0.1), {"weight_decay": 0.1}),
    (Optimizer("sgd", momentum=0.9), {"momentum": 0.9}),
    (Optimizer("sgd", momentum=0.9, nesterov=True), {"momentum": 0.9, "nesterov": True}),
    (
        Optimizer("sgd", momentum=0.5, nesterov=True, weight_decay=0.01),
        {"momentum": 0.5, "nesterov": True, "weight_decay": 0.01},
    ),
]


@pytest.mark.parametrize(("spec", "options"), CASES)
def test_sgd_matches_reference(spec, options):
    w0 = np.random.default_rng(0).normal(size=7)
    grads = gradients(7)
    for got, want in zip(run(spec, w0, grads), reference_sgd(w0, grads, **options), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "options",
    [{}, {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3}, {"weight_decay": 0.05}],
)
def test_adam_matches_reference(options):
    w0 = np.random.default_rng(0).normal(size=7)
    grads = gradients(7)
    got = run(Optimizer("adam", **options), w0, grads)
    for step, (g, want) in enumerate(zip(got, reference_adam(w0, grads, **options), strict=True)):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-14, err_msg=f"step {step + 1}")


def test_adam_first_step_is_learning_rate_times_sign():
    """With bias correction, the first update is η·g/(|g| + ε) ≈ η·sign(g) for every element;
    without it, it would be η·(1 − β₁)/√(1 − β₂) times that, about 3.16 η."""
    w0 = np.zeros(4)
    g = np.array([3.0, -0.2, 1e-3, -50.0])
    (w1,) = run(Optimizer("adam"), w0, [g])
    np.testing.assert_allclose(w1, -LR * np.sign(g), rtol=1e-4)


def test_adam_float32_state_follows_float64_reference():
    w0 = np.random.default_rng(0).normal(size=50)
    grads = [g * 1e-3 for g in gradients(50)]
    got = run(Optimizer("adam"), w0, grads, dtype=np.float32)
    want = reference_adam(w0.astype(np.float32).astype(np.float64), grads)
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-5, atol=1e-6)
