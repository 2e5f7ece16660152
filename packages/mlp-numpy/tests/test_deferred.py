"""Deferred first-layer updates (deferred.py) against plain SGD steps taken one by one."""

import numpy as np
import pytest

import mlp_numpy
from mlp_numpy.backprop import Backprop, Workspace
from mlp_numpy.deferred import STACK_ROWS, DeferredFirstLayer
from mlp_numpy.init import initial_layers
from mlp_numpy.inputs import one_hot
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training

LR = 0.3


def data(n, inputs, classes, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, inputs)), rng.integers(0, classes, n)


def reference_sgd(spec, x, labels, orders, batch_size):
    """Plain SGD one batch at a time: backprop's gradients, then w ← w − η ∂L/∂w."""
    net = Backprop(spec.network, spec.loss, np.float64)
    net.params.assign(initial_layers(spec))
    y = one_hot(labels, spec.network.num_classes, np.float64)
    losses = []
    for order in orders:
        for start in range(0, len(order), batch_size):
            losses.append(step(net, x, y, order[start : start + batch_size]))
    return net.params.layers(), losses


def step(net, x, y, rows):
    """One plain SGD step on the given rows; the loss before it."""
    ws = Workspace(net.network, len(rows), np.float64)
    net.forward(x[rows], ws)
    loss = net.loss_value(ws, y[rows])
    net.backward(x[rows], y[rows], ws)
    net.params.flat -= LR * net.grads.flat
    return loss


@pytest.mark.parametrize("batch_size", [1, 3, 8, STACK_ROWS + 3])
@pytest.mark.parametrize(
    "network",
    [
        Network(layers=(12, 7, 4), hidden="tanh"),
        Network(layers=(12, 7, 5, 4), hidden="relu", bias=False),
        Network(layers=(12, 4), output="sigmoid"),
    ],
)
def test_engine_with_deferred_updates_takes_the_same_steps(network, batch_size):
    """Two epochs, each with several stack flushes and a short last batch: the weights and
    every step's loss agree to rounding."""
    n = 3 * STACK_ROWS + 2
    loss = Loss("bce") if network.output == "sigmoid" else Loss()
    spec = ModelSpec(
        network,
        loss=loss,
        training=Training(
            batch_size=batch_size,
            dtype="float64",
            optimizer=Optimizer("sgd"),
            schedule=Schedule(lr=LR),
        ),
    )
    x, labels = data(n, network.layers[0], network.num_classes)
    orders = [np.random.default_rng(epoch).permutation(n) for epoch in range(2)]
    engine = mlp_numpy.make_engine(spec, x, labels)
    losses = np.concatenate([engine.train_batches(o, batch_size, LR) for o in orders])
    want_layers, want_losses = reference_sgd(spec, x, labels, orders, batch_size)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-12, atol=1e-12)
    for (w, b), (want_w, want_b) in zip(engine.get_layers(), want_layers, strict=True):
        np.testing.assert_allclose(w, want_w, rtol=1e-11, atol=1e-13)
        if want_b is not None:
            np.testing.assert_allclose(b, want_b, rtol=1e-11, atol=1e-13)


def test_pending_updates_enter_the_product_and_then_the_weights():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(5, 9))
    weight = w0.copy()
    deferred = DeferredFirstLayer(weight, batch_size=2)
    for _ in range(3):
        inputs, deltas = deferred.next_rows(2)
        inputs[...] = rng.normal(size=(2, 9))
        deltas[...] = rng.normal(size=(2, 5))
        deferred.record(deltas)
    x_k, d_k = deferred.inputs[:6].copy(), deferred.deltas[:6].copy()
    current = w0 - d_k.T @ x_k
    np.testing.assert_array_equal(weight, w0)  # nothing applied yet
    x = rng.normal(size=(2, 9))
    z = x @ w0.T
    deferred.correct(x, z)
    np.testing.assert_allclose(z, x @ current.T, rtol=1e-13)
    deferred.apply()
    np.testing.assert_allclose(weight, current, rtol=1e-13)
    assert deferred.pending == 0


def test_a_full_stack_is_applied_before_it_takes_more_rows():
    weight = np.zeros((2, 3))
    deferred = DeferredFirstLayer(weight, batch_size=1)
    for _ in range(STACK_ROWS):
        inputs, deltas = deferred.next_rows(1)
        inputs[...], deltas[...] = 1.0, 1.0
        deferred.record(deltas)
    assert deferred.pending == STACK_ROWS and not weight.any()
    deferred.next_rows(1)
    np.testing.assert_array_equal(weight, np.full((2, 3), -float(STACK_ROWS)))
    assert deferred.pending == 0


def test_a_delta_computed_outside_the_stack_is_refused():
    deferred = DeferredFirstLayer(np.zeros((2, 3)), batch_size=1)
    deferred.next_rows(1)
    with pytest.raises(ValueError, match="rows of D_k"):
        deferred.record(np.ones((1, 2)))
    assert deferred.pending == 0
