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


# The Keras conventions (docs/model-spec.md#optimizer-conventions), each against its formula,
# under a learning rate that changes every step (where the momentum forms part ways).
CHANGING_LRS = [0.05, 0.05, 0.02, 0.1, 0.01]


def run_with_rates(spec, w0, grads, lrs):
    w = w0.copy()
    optimizer = make_optimizer(spec, w)
    trajectory = []
    for g, lr in zip(grads, lrs, strict=True):
        optimizer.step(w, g.copy(), lr)
        trajectory.append(w.copy())
    return trajectory


def keras_sgd(w0, grads, lrs, momentum, nesterov=False, weight_decay=0.0, f32=False):
    """Keras's SGD: decoupled decay first, then v ← μ v − η g; w ← w + v (or + μ v − η g)."""
    rounded = (lambda x: float(np.float32(x))) if f32 else (lambda x: x)
    mu, lam = rounded(momentum), rounded(weight_decay)
    w, v, out = w0.copy(), np.zeros_like(w0), []
    for g, lr in zip(grads, lrs, strict=True):
        w = w - lr * lam * w
        v = mu * v - lr * g
        w = w + (mu * v - lr * g if nesterov else v)
        out.append(w)
    return out


def keras_adam(w0, grads, lrs, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0, f32=False):
    """Keras's Adam (ε̂) and AdamW: w ← w − η λ w, then w ← w − η_t m / (√v + ε) with
    η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ); with f32 the β in βᵗ and λ are rounded to float32."""
    rounded = (lambda x: float(np.float32(x))) if f32 else (lambda x: x)
    w, m, v, out = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), []
    for t, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        w = w - lr * rounded(weight_decay) * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        lr_t = lr * np.sqrt(1 - rounded(beta2) ** t) / (1 - rounded(beta1) ** t)
        w = w - lr_t * m / (np.sqrt(v) + eps)
        out.append(w)
    return out


KERAS_SGD_CASES = [
    dict(momentum=0.9),
    dict(momentum=0.9, nesterov=True),
    dict(momentum=0.5, weight_decay=0.1),
    dict(momentum=0.9, nesterov=True, weight_decay=0.01),
    dict(momentum=0.0, weight_decay=0.1),
]


@pytest.mark.parametrize("f32", [False, True])
@pytest.mark.parametrize("options", KERAS_SGD_CASES)
def test_sgd_in_keras_conventions_matches_its_formula(options, f32):
    w0 = np.random.default_rng(0).normal(size=7)
    grads = gradients(7)
    spec = Optimizer(
        "sgd",
        velocity="step",
        weight_decay_form="decoupled",
        hyperparameter_precision="float32" if f32 else "exact",
        **options,
    )
    got = run_with_rates(spec, w0, grads, CHANGING_LRS)
    want = keras_sgd(w0, grads, CHANGING_LRS, f32=f32, **options)
    for step, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("f32", [False, True])
@pytest.mark.parametrize(
    "options", [{}, {"weight_decay": 0.05}, {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3}]
)
def test_adam_in_keras_conventions_matches_its_formula(options, f32):
    w0 = np.random.default_rng(0).normal(size=7)
    grads = gradients(7)
    spec = Optimizer(
        "adam",
        eps_placement="eps_hat",
        weight_decay_form="decoupled",
        hyperparameter_precision="float32" if f32 else "exact",
        **{"eps": 1e-7, **options},
    )
    got = run_with_rates(spec, w0, grads, CHANGING_LRS)
    want = keras_adam(w0, grads, CHANGING_LRS, f32=f32, **{"eps": 1e-7, **options})
    for step, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14, err_msg=f"step {step + 1}")


def test_the_velocity_forms_agree_under_a_constant_rate_and_part_when_it_changes():
    w0 = np.random.default_rng(0).normal(size=7)
    grads = gradients(7)
    for nesterov in (False, True):
        gradient_form = Optimizer("sgd", momentum=0.9, nesterov=nesterov)
        step_form = Optimizer("sgd", momentum=0.9, nesterov=nesterov, velocity="step")
        constant = [LR] * STEPS
        a = run_with_rates(gradient_form, w0, grads, constant)[-1]
        b = run_with_rates(step_form, w0, grads, constant)[-1]
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        a = run_with_rates(gradient_form, w0, grads, CHANGING_LRS)[-1]
        b = run_with_rates(step_form, w0, grads, CHANGING_LRS)[-1]
        assert np.max(np.abs(a - b)) > 1e-3  # v carries the old rates in the step form


def test_decoupled_and_coupled_decay_differ_for_adam_but_not_for_plain_sgd():
    w0 = np.random.default_rng(0).normal(size=7)
    grads = gradients(7)
    coupled = run_with_rates(Optimizer("sgd", weight_decay=0.1), w0, grads, CHANGING_LRS)
    decoupled = run_with_rates(
        Optimizer("sgd", weight_decay=0.1, weight_decay_form="decoupled"), w0, grads, CHANGING_LRS
    )
    np.testing.assert_allclose(coupled[-1], decoupled[-1], rtol=1e-13)  # both w − η(g + λw)
    coupled = run_with_rates(Optimizer("adam", weight_decay=0.1), w0, grads, CHANGING_LRS)
    decoupled = run_with_rates(
        Optimizer("adam", weight_decay=0.1, weight_decay_form="decoupled"), w0, grads, CHANGING_LRS
    )
    assert np.max(np.abs(coupled[-1] - decoupled[-1])) > 1e-3


def test_eps_hat_is_larger_than_eps_in_the_first_steps():
    """With ε̂ the first update is η g / (|g| + ε/√(1 − β₂)), against the paper's
    η g / (|g| + ε): for a gradient as small as ε the Keras form moves 16 times less."""
    g = np.array([1e-8])
    (paper,) = run_with_rates(Optimizer("adam"), np.zeros(1), [g], [LR])
    (keras,) = run_with_rates(Optimizer("adam", eps_placement="eps_hat"), np.zeros(1), [g], [LR])
    np.testing.assert_allclose(paper, -LR * 1e-8 / (1e-8 + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(keras, -LR * 1e-8 / (1e-8 + 1e-8 / np.sqrt(1e-3)), rtol=1e-12)
    assert 16 < paper[0] / keras[0] < 17  # (1 + 31.6) / 2


def test_float32_precision_rounds_only_what_keras_rounds():
    w0 = np.random.default_rng(0).normal(size=7)
    grads = gradients(7)
    exact = Optimizer("sgd", momentum=0.9, velocity="step")
    rounded = Optimizer("sgd", momentum=0.9, velocity="step", hyperparameter_precision="float32")
    a = run_with_rates(exact, w0, grads, CHANGING_LRS)[-1]
    b = run_with_rates(rounded, w0, grads, CHANGING_LRS)[-1]
    assert 0 < np.max(np.abs(a - b)) < 1e-6  # μ = 0.9 is 0.89999998 in float32
    exact = Optimizer("sgd", momentum=0.5, velocity="step")  # 0.5 is a float32 number
    rounded = Optimizer("sgd", momentum=0.5, velocity="step", hyperparameter_precision="float32")
    a = run_with_rates(exact, w0, grads, CHANGING_LRS)[-1]
    np.testing.assert_array_equal(a, run_with_rates(rounded, w0, grads, CHANGING_LRS)[-1])


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        (Optimizer("sgd", momentum=0.9), "SGD"),
        (Optimizer("sgd", momentum=0.9, velocity="gradient", weight_decay=0.1), "SGD"),
        (Optimizer("adam", eps_placement="sqrt_v_hat"), "Adam"),
        (Optimizer("sgd", momentum=0.9, velocity="step"), "FrameworkSGD"),
        (Optimizer("adam", hyperparameter_precision="float32"), "FrameworkAdam"),
        (
            Optimizer("adam", weight_decay=0.1, weight_decay_form="decoupled"),
            "DecoupledWeightDecay",
        ),
    ],
)
def test_the_plain_forms_come_from_optimizers_and_the_others_from_framework_optimizers(spec, kind):
    optimizer = make_optimizer(spec, np.zeros(3))
    module = "optimizers" if kind in ("SGD", "Adam") else "framework_optimizers"
    assert type(optimizer).__name__ == kind
    assert type(optimizer).__module__ == f"mlp_numpy.{module}"
