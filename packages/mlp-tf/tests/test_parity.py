"""mlp-tf computes what mlp-numpy, the reference, computes: the same outputs from one weight
file, and the same training steps from the same initial weights and batches."""

from dataclasses import replace

import numpy as np
import pytest

import mlp_numpy
import mlp_tf
from mlp_numpy import Layer
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Loss, ModelSpec, Network, Optimizer, Schedule, Training
from mlp_numpy.training import fit

# Keras's built-ins in the spec's terms (docs/model-spec.md#optimizer-conventions).
KERAS = dict(weight_decay_form="decoupled", hyperparameter_precision="float32")
OPTIMIZERS = {
    "sgd": Optimizer("sgd", **KERAS),
    "momentum": Optimizer("sgd", momentum=0.9, velocity="step", **KERAS),
    "nesterov": Optimizer("sgd", momentum=0.9, nesterov=True, velocity="step", **KERAS),
    "adam": Optimizer("adam", eps=1e-7, eps_placement="eps_hat", **KERAS),
}
RATES = {"sgd": 0.05, "momentum": 0.01, "nesterov": 0.01, "adam": 0.001}
# A changing rate: 200 steps in four calls, as four epochs of a schedule would run them.
CONSTANT, CHANGING = (1.0, 1.0, 1.0, 1.0), (1.0, 0.3, 2.0, 0.5)


def make_spec(optimizer: Optimizer, lr: float, dtype: str, **network) -> ModelSpec:
    return ModelSpec(
        Network(layers=(784, 128, 64, 10), **network),
        training=Training(dtype=dtype, optimizer=optimizer, schedule=Schedule(lr=lr)),
    )


def train_both(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    steps: int,
    batch: int = 64,
    factors: tuple[float, ...] = CONSTANT,
    reference_spec: ModelSpec | None = None,
):
    """Losses and final layers of mlp-numpy (with `reference_spec`, default `spec`) and
    mlp-tf after `steps` steps on the same batches, in len(factors) calls with the rates
    lr · factor."""
    layers = initial_layers(spec)
    x, labels = x[: steps * batch], labels[: steps * batch]
    order = np.random.default_rng(1).permutation(len(x))
    lr = spec.training.schedule.lr
    reference = mlp_numpy.make_engine(reference_spec or spec, x, labels, layers=layers)
    engine = mlp_tf.make_engine(spec, x, labels, layers=layers)
    results = []
    calls = np.array_split(order, len(factors))
    for trainer in (reference, engine):
        losses = np.concatenate(
            [
                trainer.train_batches(part, batch, lr * f)
                for part, f in zip(calls, factors, strict=True)
            ]
        )
        results.append((losses, trainer.get_layers()))
    steps_taken = sum(-(-len(part) // batch) for part in calls)
    assert int(engine.optimizer.iterations.numpy()) == steps_taken  # Keras counted every step
    return results


def relative_difference(expected: list, actual: list) -> float:
    """The largest |a − e| / max |e| over every weight and bias tensor."""
    worst = 0.0
    for layer_e, layer_a in zip(expected, actual, strict=True):
        for e, a in zip(layer_e, layer_a, strict=True):
            if e is not None:
                worst = max(worst, np.max(np.abs(a - e)) / np.max(np.abs(e)))
    return worst


def test_forward_matches_numpy_on_the_test_set(mnist_train, mnist_test, tmp_path):
    x, labels = mnist_train
    spec = make_spec(Optimizer("adam"), 0.001, "float32")
    trained, _ = mlp_numpy.train(spec, x[:10_000], labels[:10_000])
    path = tmp_path / "trained.safetensors"
    trained.save(path)
    x_test = mnist_test[0]

    expected = mlp_numpy.load(path).predict_proba(x_test)
    actual = mlp_tf.load(path).predict_proba(x_test)
    assert actual.dtype == np.float32
    np.testing.assert_array_equal(actual.argmax(axis=1), expected.argmax(axis=1))
    assert np.mean(actual.argmax(axis=1) == mnist_test[1]) > 0.9  # a trained network
    # Two float32 evaluations that sum in different orders differ by a few units in the last
    # place of the logits (|z| up to 37 here, where one unit is 3.8e-6), so the outputs agree to
    # ~1e-6 and each is as close to the exact value, the same weights evaluated in float64,
    # as the other.
    exact = mlp_numpy.Model(
        trained.network,
        [Layer(w.astype(np.float64), b.astype(np.float64)) for w, b in trained.layers()],
    ).predict_proba(x_test.astype(np.float64))
    assert np.max(np.abs(actual - expected)) <= 4e-6
    assert np.max(np.abs(actual - exact)) <= 1.5 * np.max(np.abs(expected - exact))


@pytest.mark.parametrize("factors", [CONSTANT, CHANGING], ids=["constant_lr", "changing_lr"])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float64_training_matches_numpy(mnist_train, name, weight_decay, factors):
    optimizer = replace(OPTIMIZERS[name], weight_decay=weight_decay)
    spec = make_spec(optimizer, RATES[name], "float64")
    (losses_ref, layers_ref), (losses, layers) = train_both(
        spec, *mnist_train, steps=200, factors=factors
    )
    assert losses_ref[-1] < losses_ref[0] - 0.5  # it learned: a meaningful trajectory
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-10, atol=0)
    assert relative_difference(layers_ref, layers) <= 1e-10


@pytest.mark.parametrize("factors", [CONSTANT, CHANGING], ids=["constant_lr", "changing_lr"])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_losses_match_numpy(mnist_train, name, weight_decay, factors):
    # tanh, not relu: in float32 a pre-activation within rounding (~1e-7) of relu's kink can
    # fall on different sides in two correct implementations that sum in different orders,
    # after which the trajectories part by ~1e-3. A smooth activation isolates the rounding.
    optimizer = replace(OPTIMIZERS[name], weight_decay=weight_decay)
    spec = make_spec(optimizer, RATES[name], "float32", hidden="tanh")
    (losses_ref, _), (losses, layers) = train_both(spec, *mnist_train, steps=200, factors=factors)
    assert losses_ref[-1] < losses_ref[0] - 0.5
    assert np.max(np.abs(losses - losses_ref)) <= 1e-4
    assert layers[0].weight.dtype == np.float32


# The spec's default conventions, which no Keras built-in computes: Keras's Adam and SGD with
# the one method Keras lets an optimizer add, update_step (mlp_tf.optimizers), which also
# takes the hyperparameters exactly when the spec says so.
DEFAULT_CONVENTIONS = {
    "paper_adam": Optimizer("adam", hyperparameter_precision="float32"),
    "paper_adam_exact": Optimizer("adam"),
    "gradient_velocity_exact": Optimizer("sgd", momentum=0.9),
    "gradient_velocity_nesterov": Optimizer(
        "sgd", momentum=0.9, nesterov=True, hyperparameter_precision="float32"
    ),
}


@pytest.mark.parametrize("name", list(DEFAULT_CONVENTIONS))
def test_the_default_conventions_match_numpy_under_a_changing_rate(mnist_train, name):
    optimizer = DEFAULT_CONVENTIONS[name]
    spec = make_spec(optimizer, 0.001 if optimizer.name == "adam" else 0.01, "float64")
    (losses_ref, layers_ref), (losses, layers) = train_both(
        spec, *mnist_train, steps=200, factors=CHANGING
    )
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-10, atol=0)
    assert relative_difference(layers_ref, layers) <= 1e-10


@pytest.mark.parametrize(
    ("name", "default", "bound"),
    [
        # Measured (relu, 784-128-64-10, 200 steps, the rate changing in four calls), in
        # the largest weight difference over the largest weight: 0.31, 0.25, 0.31, 3.0e-7.
        # Adam's ε placement:
        ("adam", Optimizer("adam", eps=1e-7, hyperparameter_precision="float32"), 1e-3),
        # exact β₁, β₂ (float32 rounds β₂ = 0.999 by 1.3e-8, which is 1.3e-5 of 1 − β₂):
        ("adam", Optimizer("adam", eps=1e-7, eps_placement="eps_hat"), 1e-3),
        # velocity in gradient units, under the changing rate:
        ("momentum", Optimizer("sgd", momentum=0.9, hyperparameter_precision="float32"), 1e-3),
        # exact momentum 0.9 against Keras's float32 0.89999998:
        ("momentum", Optimizer("sgd", momentum=0.9, velocity="step"), 1e-8),
    ],
)
def test_the_default_conventions_differ_measurably_from_keras(mnist_train, name, default, bound):
    """The reference configured with the spec's defaults, one convention at a time, is
    further from Keras's built-in than rounding could explain: each option does something."""
    spec = make_spec(OPTIMIZERS[name], RATES[name], "float64")
    reference_spec = replace(spec, training=replace(spec.training, optimizer=default))
    (_, layers_ref), (_, layers) = train_both(
        spec, *mnist_train, steps=200, factors=CHANGING, reference_spec=reference_spec
    )
    assert relative_difference(layers_ref, layers) > bound


@pytest.mark.parametrize(
    ("network", "loss"),
    [
        (dict(output="softmax"), Loss("mse")),
        (dict(output="sigmoid"), Loss("mse", "sum_outputs")),
        (dict(output="identity"), Loss("mse")),
        (dict(output="sigmoid"), Loss("bce")),
        (dict(output="sigmoid", hidden="sigmoid"), Loss("bce", "sum_outputs")),
        # 0.25, a float32 number: TensorFlow's LeakyRelu op takes its slope as a float32
        # attribute, so in float64 a slope of 0.1 is 0.10000000149 (measured: losses 4e-8 apart).
        (dict(hidden="leaky_relu", leaky_slope=0.25), Loss("cross_entropy")),
        (dict(hidden="tanh", bias=False), Loss("cross_entropy")),
    ],
)
def test_every_activation_and_loss_matches_numpy(mnist_train, network, loss):
    spec = ModelSpec(
        Network(layers=(784, 32, 16, 10), **network),
        loss=loss,
        training=Training(
            dtype="float64",
            optimizer=Optimizer("sgd", momentum=0.9, hyperparameter_precision="float32"),
            schedule=Schedule(lr=0.05),
        ),
    )
    (losses_ref, layers_ref), (losses, layers) = train_both(spec, *mnist_train, steps=50, batch=32)
    assert losses_ref[-1] < losses_ref[0]
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-9, atol=0)
    assert relative_difference(layers_ref, layers) <= 1e-9


def test_fit_gives_the_same_history_as_numpy(mnist_train, mnist_test):
    x, labels = mnist_train[0][:3000], mnist_train[1][:3000]
    spec = ModelSpec(
        Network(layers=(784, 64, 10)),
        training=Training(
            batch_size=128,  # 3000 = 23 × 128 + 56: every epoch ends with a short batch
            epochs=4,
            dtype="float64",
            train_eval_size=1000,
            optimizer=Optimizer("adam", hyperparameter_precision="float32"),
            schedule=Schedule("step", lr=0.002, step_size=2, gamma=0.5),
        ),
    )
    test = (mnist_test[0][:2000], mnist_test[1][:2000])
    _, expected = mlp_numpy.train(spec, x, labels, test=test)
    engine = mlp_tf.make_engine(spec, x, labels)
    # Built, the engine has compiled both batch shapes, and left the weights and Adam be.
    assert int(engine.optimizer.iterations.numpy()) == 0
    for built, initial in zip(engine.get_layers(), initial_layers(spec), strict=True):
        np.testing.assert_array_equal(built.weight, initial.weight)
    actual = fit(engine, spec, train=(x, labels), test=test)

    assert [r.lr for r in actual.records] == [0.002, 0.002, 0.001, 0.001]
    for e, a in zip(expected.records, actual.records, strict=True):
        assert a.loss == pytest.approx(e.loss, rel=1e-9)
        assert (a.train_accuracy, a.test_accuracy) == (e.train_accuracy, e.test_accuracy)
    assert int(engine.optimizer.iterations.numpy()) == 4 * 24  # 23 full and 1 short batch
    assert float(engine.optimizer.learning_rate.numpy()) == 0.001  # the last epoch's rate
