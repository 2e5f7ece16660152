"""The spec options that name frameworks' defaults, each against its written formula
(docs/model-spec.md#framework-defaults), and the default sets of `mlp_numpy.defaults`."""

import math

import numpy as np
import pytest

from mlp_numpy.defaults import DEFAULTS, KERAS_DOCUMENTED, merge, with_defaults
from mlp_numpy.engine import NumpyEngine
from mlp_numpy.framework_losses import ClampedLogBinaryCrossEntropy, ClippedCrossEntropy
from mlp_numpy.gradcheck import check_gradients
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Init, Loss, ModelSpec, Network, SpecError, Training


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_fan_in_uniform_draws_weights_and_biases_within_one_over_root_fan_in():
    spec = ModelSpec(
        Network((784, 128, 10)),
        init=Init("fan_in_uniform", bias="like_weights"),
        training=Training(dtype="float64"),
    )
    layers = initial_layers(spec)
    rng = np.random.default_rng([0, 0])
    for layer, fan_in in zip(layers, (784, 128), strict=True):
        bound = 1 / math.sqrt(fan_in)
        expected_weight = rng.uniform(-bound, bound, layer.weight.shape)
        expected_bias = rng.uniform(-bound, bound, layer.bias.shape)
        np.testing.assert_array_equal(layer.weight, expected_weight)
        np.testing.assert_array_equal(layer.bias, expected_bias)
        assert np.abs(layer.weight).max() <= bound
        # U(−b, b) has variance b²/3: the draw is the whole range, not a narrower one.
        assert abs(layer.weight.var() - bound**2 / 3) < 0.05 * bound**2 / 3


def test_lecun_normal_draws_flax_truncated_normal_of_standard_deviation_one_over_root_fan_in():
    spec = ModelSpec(
        Network((784, 128, 10)), init=Init("lecun_normal"), training=Training(dtype="float64")
    )
    layers = initial_layers(spec)
    rng = np.random.default_rng([0, 0])
    for layer, fan_in in zip(layers, (784, 128), strict=True):
        x = rng.standard_normal(layer.weight.shape)  # the written draw: redraw outside (−2, 2)
        while (np.abs(x) >= 2).any():
            x[np.abs(x) >= 2] = rng.standard_normal(int((np.abs(x) >= 2).sum()))
        sigma = math.sqrt(1 / fan_in)
        np.testing.assert_array_equal(layer.weight, x * (sigma / 0.87962566103423978))
        np.testing.assert_array_equal(layer.bias, 0.0)  # bias = "zeros": nothing drawn
        # truncated at 2 standard deviations of the untruncated normal, σ / 0.8796 each
        assert np.abs(layer.weight).max() < 2 * sigma / 0.87962566103423978
        assert np.abs(layer.weight).max() > 1.9 * sigma / 0.87962566103423978
        # the draw's standard deviation is σ itself, within 4 standard errors (1/√(2n) each)
        assert abs(layer.weight.std() / sigma - 1) < 4 / math.sqrt(2 * layer.weight.size)


def test_clipped_cross_entropy_is_keras_formula():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 4)) * 3
    z[0] = [40.0, 0.0, 0.0, -40.0]  # one sample whose probabilities clip on both sides
    a = softmax(z)
    y = np.eye(4)[[3, 1, 2, 0, 0]]
    loss = ClippedCrossEntropy(None)
    q = np.clip(a / a.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    expected = -np.mean(np.sum(y * np.log(q), axis=1))
    assert loss.value(z, a, y) == pytest.approx(expected, rel=1e-14)
    # The clipped sample's label probability (e^-80) counts as 1e-7: −log 1e-7 = 16.1.
    assert -math.log(1e-7) == pytest.approx(16.118, abs=1e-3)


def test_clipped_cross_entropy_gradient_is_zero_where_clipped():
    from mlp_numpy.activations import Softmax

    z = np.array([[40.0, 0.0, 0.0, -40.0], [0.1, 0.2, 0.3, 0.4]])
    y = np.eye(4)[[3, 2]]
    a = softmax(z)
    grad = ClippedCrossEntropy(Softmax()).gradient(z, a, y)
    np.testing.assert_array_equal(grad[0], 0.0)  # the label's probability is below ε
    np.testing.assert_allclose(grad[1], (a[1] - y[1]) / 2, rtol=1e-12)  # unclipped: (a − y)/N


def test_clamped_log_bce_is_pytorch_formula():
    z = np.array([[-200.0, 0.5], [3.0, -1.0]])
    a = 1 / (1 + np.exp(-z))
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss = ClampedLogBinaryCrossEntropy("mean", None)
    with np.errstate(divide="ignore"):
        terms = y * np.maximum(np.log(a), -100) + (1 - y) * np.maximum(np.log(1 - a), -100)
    assert loss.value(z, a, y) == pytest.approx(-terms.mean(), rel=1e-14)
    assert loss.value(z, a, y) > 100 / 4  # log σ(−200) = −200 is clamped at −100


@pytest.mark.parametrize(
    ("loss", "output"),
    [
        (Loss("cross_entropy", form="clipped_probabilities"), "softmax"),
        (Loss("bce", form="clamped_log"), "sigmoid"),
    ],
)
def test_probability_forms_match_finite_differences(loss, output):
    spec = ModelSpec(
        Network((5, 4, 3), output=output),
        loss,
        Init("xavier_uniform", bias="like_weights"),
        Training(dtype="float64"),
    )
    rng = np.random.default_rng(7)
    x, labels = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    result = check_gradients(spec.network, spec.loss, initial_layers(spec), x, labels)
    assert result.max_error < 1e-7


def test_one_step_with_clipped_probabilities_follows_the_formula():
    spec = ModelSpec(
        Network((3, 2)),
        Loss(form="clipped_probabilities"),
        Init("xavier_uniform"),
        Training(dtype="float64", optimizer=_sgd()),
    )
    x = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]])
    labels = np.array([1, 0])
    engine = NumpyEngine(spec, x, labels)
    ((w, b),) = engine.get_layers()
    z = x @ w.T + b
    a = softmax(z)
    y = np.eye(2)[labels]
    grad_z = (a - y) / 2  # no probability clips here, so the gradient is the logits form's
    loss = engine.step(np.array([0, 1]), 0.1)
    assert loss == pytest.approx(-np.mean(np.log(a[[0, 1], labels])), rel=1e-14)
    ((w1, b1),) = engine.get_layers()
    np.testing.assert_allclose(w1, w - 0.1 * grad_z.T @ x, rtol=1e-13)
    np.testing.assert_allclose(b1, b - 0.1 * grad_z.sum(axis=0), rtol=1e-13)


def _sgd():
    from mlp_numpy.spec import Optimizer

    return Optimizer(name="sgd")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"loss": {"name": "mse", "form": "clipped_probabilities"}},
            'loss.form: "clipped_probabilities" is a form of name = "cross_entropy"',
        ),
        ({"loss": {"form": "clamped_log"}}, 'loss.form: "clamped_log" is a form of name = "bce"'),
        ({"loss": {"form": "probabilities"}}, "loss.form: must be one of framework, logits"),
        ({"init": {"draw": "torch"}}, "init.draw: must be one of reference, framework"),
        (
            {"init": {"scheme": "normal", "draw": "framework"}},
            'init.draw: "framework" draws a named scheme',
        ),
        (
            {"training": {"batch_order": "random"}},
            "training.batch_order: must be one of shared, framework",
        ),
        ({"training": {"tf32": 1}}, "training.tf32: must be true or false"),
    ],
)
def test_bad_default_options_name_the_field(table, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        ModelSpec.from_dict(merge({"network": {"layers": [4, 3]}}, table))


def test_default_options_round_trip_through_files():
    spec = ModelSpec.from_dict(
        {
            "network": {"layers": [4, 3]},
            "loss": {"form": "clipped_probabilities"},
            "init": {"scheme": "fan_in_uniform", "draw": "framework"},
            "training": {"batch_order": "framework", "tf32": True},
        }
    )
    assert ModelSpec.from_dict(spec.to_dict()) == spec


def test_default_sets():
    base = ModelSpec(Network((784, 128, 64, 10)))
    torch = with_defaults(base, "torch")
    keras = with_defaults(base, "keras", draw="framework")
    assert (torch.init.scheme, torch.init.bias, torch.init.draw) == (
        "fan_in_uniform",
        "like_weights",
        "reference",
    )
    assert (keras.init.scheme, keras.init.bias, keras.init.draw) == (
        "xavier_uniform",
        "zeros",
        "framework",
    )
    assert (torch.training.optimizer.eps, torch.training.optimizer.eps_placement) == (
        1e-8,
        "sqrt_v_hat",
    )
    assert (keras.training.optimizer.eps, keras.training.optimizer.eps_placement) == (
        1e-7,
        "eps_hat",
    )
    assert keras.training.optimizer.hyperparameter_precision == "float32"
    assert (torch.training.tf32, keras.training.tf32) == (False, True)
    assert torch.loss.form == keras.loss.form == "logits"
    assert KERAS_DOCUMENTED["loss"]["form"] == "clipped_probabilities"
    sgd = ModelSpec(Network((4, 3)), training=Training(optimizer=_sgd_momentum()))
    assert with_defaults(sgd, "keras").training.optimizer.velocity == "step"
    assert set(DEFAULTS) == {"torch", "keras", "flax"}
    with pytest.raises(ValueError, match="framework: must be one of torch, keras, flax"):
        with_defaults(base, "jax")


def test_flax_default_set_is_the_flax_tutorials():
    """nnx.Linear's lecun_normal with zero biases, optax.adamw (decoupled decay, its
    default weight_decay 1e-4, ε = 1e-8 added to √v̂), JAX's TF32 products on GPUs."""
    flax = with_defaults(ModelSpec(Network((784, 128, 64, 10))), "flax", draw="framework")
    assert (flax.init.scheme, flax.init.bias, flax.init.draw) == (
        "lecun_normal",
        "zeros",
        "framework",
    )
    adam = flax.training.optimizer
    assert (adam.eps, adam.eps_placement, adam.weight_decay, adam.weight_decay_form) == (
        1e-8,
        "sqrt_v_hat",
        1e-4,
        "decoupled",
    )
    assert (flax.training.tf32, flax.training.batch_order) == (True, "framework")
    sgd = ModelSpec(Network((4, 3)), training=Training(optimizer=_sgd_momentum()))
    sgd_flax = with_defaults(sgd, "flax").training.optimizer
    assert (sgd_flax.weight_decay, sgd_flax.velocity) == (0.0, "gradient")  # AdamW's only


def _sgd_momentum():
    from mlp_numpy.spec import Optimizer

    return Optimizer(name="sgd", momentum=0.9)
