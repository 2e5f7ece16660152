"""One training step is exactly forward, loss, backward and the optimizer's update, and
it leaves the true gradients of every layer readable."""

import numpy as np
import pytest

import mlp_numpy
from mlp_numpy.inputs import one_hot
from mlp_numpy.losses import CrossEntropy
from mlp_numpy.network import MLP
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training


def engine_for(dtype="float64", optimizer="sgd", loss="cross_entropy", output="softmax"):
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(40, 6)), rng.integers(0, 3, size=40)
    spec = ModelSpec(
        Network(layers=(6, 5, 4, 3), output=output),
        Loss(loss),
        training=Training(dtype=dtype, optimizer=Optimizer(optimizer), schedule=Schedule(lr=0.1)),
    )
    return mlp_numpy.make_engine(spec, x, labels), spec, x, labels


@pytest.mark.parametrize(("loss", "output"), [("cross_entropy", "softmax"), ("mse", "identity")])
def test_a_step_is_forward_loss_backward_and_the_update(loss, output):
    engine, spec, x, labels = engine_for(loss=loss, output=output)
    batch = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    # The same step, written out against a second copy of the network.
    net = MLP(spec.network, spec.loss, np.float64)
    net.params.assign(engine.get_layers())
    before = net.params.flat.copy()
    y = one_hot(labels[batch], 3, np.float64)
    trace = net.forward(x[batch])
    want_loss = net.loss_value(trace, y)
    net.backward(trace, y)

    loss_value = engine.step(batch, 0.1)

    assert loss_value == want_loss
    for got, want in zip(engine.net.grads.weights, net.grads.weights, strict=True):
        np.testing.assert_array_equal(got, want)
        assert np.abs(got).max() > 0  # every layer's gradient is written, the first included
    np.testing.assert_array_equal(engine.net.grads.flat, net.grads.flat)
    np.testing.assert_allclose(engine.net.params.flat, before - 0.1 * net.grads.flat, rtol=1e-15)


def test_train_batches_returns_each_steps_loss_before_its_update():
    engine, again = engine_for()[0], engine_for()[0]
    order = np.random.default_rng(1).permutation(40)
    losses = engine.train_batches(order, 16, 0.1)
    assert losses.dtype == np.float64 and len(losses) == 3
    want = [again.step(order[start : start + 16], 0.1) for start in (0, 16, 32)]
    np.testing.assert_array_equal(losses, want)


def test_float32_losses_are_computed_in_float32():
    engine = engine_for(dtype="float32")[0]
    batch = np.arange(16)
    z = engine.net.forward(engine.x[batch]).z
    assert z.dtype == np.float32
    y = engine.y[batch]
    shifted = z - z.max(axis=1, keepdims=True)
    in_float32 = (np.log(np.exp(shifted).sum(axis=1)) - (shifted * y).sum(axis=1)).sum() / 16
    assert in_float32.dtype == np.float32
    assert CrossEntropy().value(z, None, y) == float(in_float32)
    assert engine.step(batch, 0.1) == float(in_float32)


def test_float32_overflow_is_reported_as_divergence_of_that_step():
    """A float32 loss overflows where the float64 one does not: fit names that step."""
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(64, 4)), rng.integers(0, 2, size=64)
    layers = [
        mlp_numpy.Layer(np.full((8, 4), 1e10), np.zeros(8)),
        mlp_numpy.Layer(np.full((2, 8), 1e10), np.zeros(2)),
    ]  # outputs near 1e20: their squares exceed float32's largest number, 3.4e38

    def spec(dtype):
        return ModelSpec(
            Network(layers=(4, 8, 2), output="identity"),
            Loss("mse"),
            training=Training(dtype=dtype, batch_size=16, schedule=Schedule(lr=1e-30)),
        )

    float64 = mlp_numpy.make_engine(spec("float64"), x, labels, layers=layers)
    assert np.isfinite(float64.step(np.arange(16), 1e-30))
    with pytest.raises(mlp_numpy.training.DivergenceError) as error:
        mlp_numpy.train(spec("float32"), x, labels, layers=layers)
    assert (error.value.epoch, error.value.step) == (1, 1)
