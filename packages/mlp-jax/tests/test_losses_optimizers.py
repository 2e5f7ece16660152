"""`losses` and `optimizers` map every spec field to Optax's own, and refuse, by field and
reason, the conventions Optax has no built-in for."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mlp_jax.losses import make_loss, targets
from mlp_jax.network import MLP
from mlp_jax.optimizers import make_optimizer, transformation
from mlp_numpy.activations import output_activation as reference_output
from mlp_numpy.conventions import ConventionError
from mlp_numpy.losses import make_loss as reference_loss
from mlp_numpy.spec import Loss, Network, Optimizer


@pytest.mark.parametrize(
    ("name", "output"), [("cross_entropy", "softmax"), ("bce", "sigmoid"), ("mse", "identity")]
)
@pytest.mark.parametrize("reduction", ["mean", "sum_outputs"])
def test_each_optax_loss_is_the_references(name, output, reduction):
    rng = np.random.default_rng(0)
    z, labels = rng.normal(size=(6, 4)) * 3, rng.integers(0, 4, 6)
    loss, network = Loss(name, reduction=reduction), Network((3, 4), output=output)
    f = reference_output(output)
    a = f.forward(z, np.empty_like(z))
    reference = reference_loss(loss, network).value(z, a, np.eye(4)[labels])
    y = jnp.asarray(targets(labels, loss, network, np.float32))
    assert float(make_loss(loss, network)(jnp.asarray(z), y)) == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize(
    ("name", "form"), [("cross_entropy", "clipped_probabilities"), ("bce", "clamped_log")]
)
def test_probability_loss_forms_have_no_optax_built_in(name, form):
    network = Network((3, 4), output="softmax" if name == "cross_entropy" else "sigmoid")
    with pytest.raises(ConventionError, match=f'^loss.form: Optax.*takes the logits; "{form}"'):
        make_loss(Loss(name, form=form), network)


def module(dtype=jnp.float32) -> MLP:
    return MLP(Network((3, 2)), rngs=nnx.Rngs(0), param_dtype=dtype)


@pytest.mark.parametrize(
    ("optimizer", "field"),
    [
        (Optimizer("adam", eps_placement="eps_hat"), "eps_placement"),
        (Optimizer("sgd", momentum=0.9, velocity="step"), "velocity"),
    ],
)
def test_keras_conventions_have_no_optax_built_in(optimizer, field):
    with pytest.raises(ConventionError, match=rf"^training\.optimizer\.{field}: .*no Optax"):
        make_optimizer(optimizer, module())


def test_float32_hyperparameters_run_where_they_change_nothing():
    """Optax's hyperparameters are in the parameters' dtype: "float32" changes a float64
    run's update only where rounding changes a value (μ = 0.9), which is not run; μ = 0.5,
    or float32 training, is Optax's own update."""
    from mlp_jax.devices import training_dtype

    float64 = training_dtype("float64")
    rounded = Optimizer("sgd", momentum=0.9, hyperparameter_precision="float32")
    with pytest.raises(ConventionError, match=r"hyperparameter_precision: .*momentum = 0\.9"):
        make_optimizer(rounded, module(float64))
    assert isinstance(make_optimizer(rounded, module()), nnx.Optimizer)  # float32 training
    exact = Optimizer("sgd", momentum=0.5, hyperparameter_precision="float32")
    assert isinstance(make_optimizer(exact, module(float64)), nnx.Optimizer)


def one_update(optimizer: Optimizer, lr: float, w: float = 1.0, g: float = 2.0) -> float:
    tx = transformation(optimizer, lr)
    params = {"w": jnp.array([w], jnp.float32)}
    updates, _ = tx.update({"w": jnp.array([g], jnp.float32)}, tx.init(params), params)
    return float(optax.apply_updates(params, updates)["w"][0])


def test_one_step_of_each_is_the_spec_formula():
    """From w = 1 with g = 2, at η = 0.1, λ = 0.5: SGD w − η(g + λw) either way; Nesterov's
    first step w − η(g + μg); Adam's first w − η·sign(g) (m̂ = g, v̂ = g², up to ε); AdamW's
    w − η(sign(g) + λw); coupled Adam's first step is still w − η·sign(g + λw)."""
    lr, decay = 0.1, 0.5
    for optimizer, expected in (
        (Optimizer("sgd", weight_decay=decay), 1 - lr * (2 + decay)),
        (Optimizer("sgd", weight_decay=decay, weight_decay_form="coupled"), 1 - lr * (2 + decay)),
        (Optimizer("sgd", momentum=0.9, nesterov=True), 1 - lr * (2 + 0.9 * 2)),
        (Optimizer("sgd", momentum=0.9, weight_decay=decay), 1 - lr * (2 + decay)),
        (Optimizer("adam", eps=0.0), 1 - lr),
        (Optimizer("adam", eps=0.0, weight_decay=decay), 1 - lr * (1 + decay)),
        (Optimizer("adam", eps=0.0, weight_decay=decay, weight_decay_form="coupled"), 1 - lr),
    ):
        assert one_update(optimizer, lr) == pytest.approx(expected, rel=1e-6), optimizer


def test_the_optimizers_are_optaxs_own_with_the_spec_hyperparameters():
    adam = transformation(Optimizer("adam", beta1=0.8, beta2=0.99, eps=1e-6), 0.003)
    state = adam.init({"w": jnp.zeros(2)})
    assert {k: float(v) for k, v in state.hyperparams.items()} == pytest.approx(
        {"learning_rate": 0.003, "b1": 0.8, "b2": 0.99, "eps": 1e-6, "eps_root": 0.0}
    )
    assert isinstance(state.inner_state[0], optax.ScaleByAdamState)
    adamw = transformation(Optimizer("adam", weight_decay=0.01)).init({"w": jnp.zeros(2)})
    assert float(adamw.hyperparams["weight_decay"]) == pytest.approx(0.01)
    sgd = transformation(Optimizer("sgd", momentum=0.9, nesterov=True)).init({"w": jnp.zeros(2)})
    assert float(sgd.hyperparams["momentum"]) == pytest.approx(0.9)
    assert isinstance(sgd.inner_state[0], optax.TraceState)
    optimizer = make_optimizer(Optimizer("adam"), module())
    assert isinstance(optimizer, nnx.Optimizer) and int(optimizer.step[...]) == 0
    assert float(optimizer.opt_state.hyperparams["learning_rate"][...]) == 0.0  # set per epoch
