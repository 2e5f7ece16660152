"""The spec's optimizer as Optax's own: the one place where the spec's optimizer fields
become an `optax.GradientTransformation`, and an `nnx.Optimizer` applying it to a module's
parameters.

With g = ∂L/∂w, η the learning rate of the epoch, t the update count and λ the weight
decay, Optax computes (optax/_src/alias.py, transform.py):

    sgd        w ← w − η g                               optax.sgd(η)
    momentum   v ← g + μ v;  w ← w − η v                 optax.sgd(η, momentum=μ)
    nesterov   v ← g + μ v;  w ← w − η (g + μ v)         optax.sgd(η, μ, nesterov=True)
    adam       m ← (1 − β₁) g + β₁ m;  v ← (1 − β₂) g² + β₂ v
               w ← w − η m̂ / (√(v̂ + 0) + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
                                                         optax.adam(η, β₁, β₂, ε)

Weight decay is Optax's `add_decayed_weights(λ)`, u ← u + λ w, and where it sits in the
chain decides its form, as in Optax's own optimizers:

    decoupled   adam: optax.adamw(η, β₁, β₂, ε, weight_decay=λ), which is
                  chain(scale_by_adam, add_decayed_weights(λ), scale_by_learning_rate(η)):
                  w ← w − η (m̂ / (√v̂ + ε) + λ w)
                sgd: the same chain with the momentum trace in Adam's place,
                  chain(trace(μ, nesterov), add_decayed_weights(λ), scale_by_learning_rate(η)):
                  w ← w − η (v + λ w)
    coupled     chain(add_decayed_weights(λ), optax.sgd(…) or optax.adam(…)): g ← g + λ w
                  first, L2 in the gradient (as optax.adadelta and optax.lars place it)

so `weight_decay_form = "framework"` is "decoupled": `optax.adamw` is Optax's Adam with
weight decay (and the Flax MNIST tutorial's optimizer). For plain SGD the two forms are
one update.

Every optimizer is wrapped in `optax.inject_hyperparams`, which keeps its numeric
hyperparameters in the optimizer state as arrays of the parameters' dtype: the engine sets
`opt_state.hyperparams["learning_rate"]` to the epoch's rate, and in float64 training
every hyperparameter, and so Adam's bias correction 1 − βᵗ (a float64 β to an int32 power
t), is float64 ("exact"), whether or not `jax_enable_x64` was on when the optimizer was made.

Conventions Optax has no built-in for raise `ConventionError`: Keras's ε̂ placement
(`optax.adam` adds ε to √v̂; its `eps_root` goes inside the root, a third form), the
velocity in step units (`optax.trace` accumulates gradients), and, in float64 training,
float32-rounded hyperparameters where rounding changes one (`inject_hyperparams` casts
every hyperparameter to the parameters' dtype, not Keras's mix); in float32 training every
hyperparameter is a float32 number anyway.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from mlp_numpy.conventions import ConventionError, changed_by_float32
from mlp_numpy.spec import Optimizer


def check_conventions(spec: Optimizer, dtype: jnp.dtype) -> None:
    """Raise ConventionError, naming the field, for a convention Optax has no built-in for,
    in training of `dtype`."""
    field = "training.optimizer"
    if spec.name == "adam" and spec.eps_placement == "eps_hat":
        raise ConventionError(
            f'{field}.eps_placement: optax.adam adds ε to √v̂; "eps_hat" (Keras) has no '
            "Optax built-in"
        )
    if spec.name == "sgd" and spec.momentum and spec.velocity == "step":
        raise ConventionError(
            f'{field}.velocity: optax.sgd keeps the velocity in gradient units; "step" '
            "(Keras) has no Optax built-in"
        )
    rounded = changed_by_float32(spec)
    if dtype == jnp.float64 and spec.hyperparameter_precision == "float32" and rounded:
        name, (exact, float32) = next(iter(rounded.items()))
        raise ConventionError(
            f"{field}.hyperparameter_precision: Optax uses {name} = {exact!r} in the "
            f"parameters' dtype, float64; \"float32\" ({float32!r}, Keras's TensorFlow backend) "
            "has no Optax built-in"
        )


def sgd_l2(
    learning_rate: float, momentum: float | None, weight_decay: float, nesterov: bool = False
) -> optax.GradientTransformation:
    """optax.sgd after optax.add_decayed_weights: coupled weight decay."""
    return optax.chain(
        optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate, momentum, nesterov)
    )


def sgdw(
    learning_rate: float, momentum: float, weight_decay: float, nesterov: bool = False
) -> optax.GradientTransformation:
    """SGD with momentum and decoupled weight decay, chained as optax.adamw chains Adam."""
    return optax.chain(
        optax.trace(decay=momentum, nesterov=nesterov),
        optax.add_decayed_weights(weight_decay),
        optax.scale_by_learning_rate(learning_rate),
    )


def adam_l2(
    learning_rate: float, b1: float, b2: float, eps: float, weight_decay: float
) -> optax.GradientTransformation:
    """optax.adam after optax.add_decayed_weights: coupled weight decay."""
    return optax.chain(
        optax.add_decayed_weights(weight_decay), optax.adam(learning_rate, b1, b2, eps)
    )


def make_optimizer(spec: Optimizer, parameters: nnx.Module) -> nnx.Optimizer:
    """An `nnx.Optimizer` over the `nnx.Param`s of the module `parameters`, applying the
    spec's Optax transformation (`transformation`) at learning rate 0 until the engine sets
    the epoch's rate. Raises ConventionError for a convention Optax has no built-in for
    (module docstring)."""
    dtype = jax.tree.leaves(nnx.state(parameters, nnx.Param))[0].dtype
    check_conventions(spec, dtype)
    return nnx.Optimizer(parameters, transformation(spec), wrt=nnx.Param)


def transformation(spec: Optimizer, lr: float = 0.0) -> optax.GradientTransformation:
    """The spec's optimizer as an Optax transformation with an injected learning rate
    (`opt_state.hyperparams["learning_rate"]`), starting at `lr`."""
    # "framework" is Optax's own form, decoupled (optax.adamw)
    decay, decoupled = spec.weight_decay, spec.weight_decay_form != "coupled"
    if spec.name == "adam":
        adam = {"learning_rate": lr, "b1": spec.beta1, "b2": spec.beta2, "eps": spec.eps}
        if not decay:
            return optax.inject_hyperparams(optax.adam)(**adam)
        if decoupled:
            return optax.inject_hyperparams(optax.adamw)(**adam, weight_decay=decay)
        return optax.inject_hyperparams(adam_l2)(**adam, weight_decay=decay)
    if spec.name == "sgd":
        momentum = spec.momentum or None  # None: no momentum trace at all
        sgd = {"learning_rate": lr, "momentum": momentum, "nesterov": spec.nesterov}
        if not decay:
            return optax.inject_hyperparams(optax.sgd)(**sgd)
        if decoupled and momentum:
            return optax.inject_hyperparams(sgdw)(**sgd, weight_decay=decay)
        return optax.inject_hyperparams(sgd_l2)(**sgd, weight_decay=decay)
    raise ValueError(f"training.optimizer.name: unknown optimizer {spec.name!r}")
