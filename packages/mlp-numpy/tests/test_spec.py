"""The model spec: defaults, files, and validation errors that name the field."""

import json
import re

import pytest

from mlp_numpy.spec import (
    Init,
    Loss,
    ModelSpec,
    Network,
    Optimizer,
    Schedule,
    SpecError,
    Training,
    load_spec,
    save_spec,
    to_toml,
)

FULL = ModelSpec(
    Network(layers=(784, 512, 256, 10), hidden="leaky_relu", output="sigmoid", bias=False),
    Loss("bce", "sum_outputs"),
    Init("uniform", low=-0.2, high=0.3, bias="like_weights"),
    Training(
        batch_size=None,
        epochs=100,
        seed=42,
        shuffle=False,
        drop_last=True,
        dtype="float64",
        train_eval_size=200,
        patience=3,
        optimizer=Optimizer("sgd", momentum=0.9, nesterov=True, weight_decay=1e-4),
        schedule=Schedule("piecewise", boundaries=(30, 60, 80), values=(5e-3, 3e-3, 1e-3, 5e-4)),
    ),
)


def test_defaults_follow_the_document():
    spec = ModelSpec.from_dict({"network": {"layers": [784, 128, 10]}})
    assert spec.network == Network(layers=(784, 128, 10), hidden="relu", output="softmax")
    assert spec.loss == Loss("cross_entropy", "mean")
    assert spec.init.scheme == "he_normal" and spec.init.bias == "zeros"
    assert spec.training.batch_size == 64 and spec.training.dtype == "float32"
    assert spec.training.optimizer.name == "adam" and spec.training.schedule.lr == 0.001


@pytest.mark.parametrize("suffix", [".toml", ".json"])
@pytest.mark.parametrize("spec", [FULL, ModelSpec(Network(layers=(4, 2)))])
def test_files_round_trip(tmp_path, suffix, spec):
    path = tmp_path / f"spec{suffix}"
    save_spec(spec, path)
    assert load_spec(path) == spec
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_full_batch_is_written_as_full(tmp_path):
    data = FULL.to_dict()
    assert data["training"]["batch_size"] == "full"
    assert 'batch_size = "full"' in to_toml(data)
    assert ModelSpec.from_dict(json.loads(json.dumps(data))) == FULL


def test_relative_init_path_is_relative_to_the_spec_file(tmp_path):
    (tmp_path / "spec.toml").write_text(
        '[network]\nlayers = [3, 2]\n[init]\nscheme = "file"\npath = "w.safetensors"\n'
    )
    assert load_spec(tmp_path / "spec.toml").init.path == str(tmp_path / "w.safetensors")


def with_field(dotted, value):
    data = FULL.to_dict()
    *tables, key = dotted.split(".")
    table = data
    for name in tables:
        table = table[name]
    table[key] = value
    return data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("network.layers", [784]),
        ("network.layers", "784-10"),
        ("network.layers", [784, 0, 10]),
        ("network.layers", [784, 12.5, 10]),
        ("network.hidden", "gelu"),
        ("network.output", "tanh"),
        ("network.bias", "yes"),
        ("network.leaky_slope", -0.1),
        ("loss.reduction", "sum"),
        ("init.scheme", "lecun"),
        ("init.scale", -1.0),
        ("init.bias", "ones"),
        ("init.high", -0.5),
        ("training.batch_size", 0),
        ("training.batch_size", "half"),
        ("training.batch_size", None),
        ("training.epochs", 0),
        ("training.seed", -1),
        ("training.shuffle", 1),
        ("training.dtype", "float16"),
        ("training.train_eval_size", -5),
        ("training.patience", 1.5),
        ("training.optimizer.name", "rmsprop"),
        ("training.optimizer.momentum", 1.0),
        ("training.optimizer.beta1", 1.0),
        ("training.optimizer.beta2", 1.2),
        ("training.optimizer.eps", float("nan")),
        ("training.optimizer.weight_decay", -1e-3),
        ("training.schedule.values", [0.1, -0.1, 0.1, 0.1]),
        ("training.schedule.gamma", float("inf")),
    ],
)
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(SpecError, match="^" + re.escape(field)):
        ModelSpec.from_dict(with_field(field, value))


def test_beta2_message_is_readable():
    with pytest.raises(SpecError) as error:
        ModelSpec.from_dict(with_field("training.optimizer.beta2", 1.2))
    assert str(error.value) == "training.optimizer.beta2: must be in [0, 1), got 1.2"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("network.width", 3),
        ("loss.weight", 1.0),
        ("training.optimizer.amsgrad", True),
        ("training.schedule.warmup", 5),
        ("extra", {}),
    ],
)
def test_unknown_fields_are_errors(field, value):
    with pytest.raises(SpecError, match="^" + re.escape(field) + ": unknown field"):
        ModelSpec.from_dict(with_field(field, value))


def test_layers_are_required():
    with pytest.raises(SpecError, match=r"^network\.layers: is required"):
        ModelSpec.from_dict({"network": {"hidden": "relu"}})
    with pytest.raises(SpecError, match=r"^network: is required"):
        ModelSpec.from_dict({})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"loss": Loss("cross_entropy")}, "loss.name"),
        ({"loss": Loss("bce"), "network": Network(layers=(3, 2), output="softmax")}, "loss.name"),
    ],
)
def test_loss_must_fit_the_output(changes, field):
    parts = {"network": Network(layers=(3, 2), output="identity"), **changes}
    with pytest.raises(SpecError, match="^" + re.escape(field)):
        ModelSpec(**parts)


def test_mse_fits_every_output():
    for output in ("softmax", "sigmoid", "identity"):
        ModelSpec(Network(layers=(3, 2), output=output), Loss("mse"))


def test_optimizer_consistency():
    with pytest.raises(SpecError, match=r"^training\.optimizer\.nesterov: needs momentum > 0"):
        Optimizer("sgd", nesterov=True)
    with pytest.raises(SpecError, match=r"^training\.optimizer\.momentum"):
        Optimizer("adam", momentum=0.9)


def test_file_init_needs_a_path():
    with pytest.raises(SpecError, match=r"^init\.path"):
        Init("file")


def test_bad_files(tmp_path):
    (tmp_path / "spec.yaml").write_text("network: {}")
    with pytest.raises(SpecError, match=r"\.toml or \.json"):
        load_spec(tmp_path / "spec.yaml")
    (tmp_path / "spec.toml").write_text("[network\nlayers = [1, 2]")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(tmp_path / "spec.toml")


KERAS_CONVENTIONS = dict(
    weight_decay_form="decoupled", hyperparameter_precision="float32", weight_decay=1e-4
)


@pytest.mark.parametrize("suffix", [".toml", ".json"])
@pytest.mark.parametrize(
    "optimizer",
    [
        Optimizer("adam", eps_placement="eps_hat", eps=1e-7, **KERAS_CONVENTIONS),
        Optimizer("sgd", momentum=0.9, nesterov=True, velocity="step", **KERAS_CONVENTIONS),
    ],
)
def test_optimizer_conventions_round_trip(tmp_path, suffix, optimizer):
    spec = ModelSpec(Network(layers=(4, 2)), training=Training(optimizer=optimizer))
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    path = tmp_path / f"spec{suffix}"
    save_spec(spec, path)
    assert load_spec(path).training.optimizer == optimizer


def test_conventions_default_to_each_frameworks_built_in():
    spec = ModelSpec.from_dict({"network": {"layers": [4, 2]}})
    optimizer = spec.training.optimizer
    assert (optimizer.eps_placement, optimizer.velocity) == ("framework", "framework")
    assert optimizer.weight_decay_form == "framework"
    assert optimizer.hyperparameter_precision == "framework"
    assert spec.loss.form == "framework"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("eps_placement", "after", "must be one of framework, sqrt_v_hat, eps_hat; got 'after'"),
        ("velocity", "steps", "must be one of framework, gradient, step; got 'steps'"),
        ("weight_decay_form", "l2", "must be one of framework, coupled, decoupled; got 'l2'"),
        (
            "hyperparameter_precision",
            "float16",
            "must be one of framework, exact, float32; got 'float16'",
        ),
    ],
)
def test_invalid_conventions_name_the_field(field, value, message):
    with pytest.raises(SpecError) as error:
        ModelSpec.from_dict(with_field(f"training.optimizer.{field}", value))
    assert str(error.value) == f"training.optimizer.{field}: {message}"


def test_conventions_belong_to_their_optimizer():
    with pytest.raises(SpecError, match=r'^training\.optimizer\.eps_placement: .* name = "adam"'):
        Optimizer("sgd", eps_placement="eps_hat")
    with pytest.raises(SpecError, match=r'^training\.optimizer\.velocity: .* name = "sgd"'):
        Optimizer("adam", velocity="step")


@pytest.mark.parametrize(
    ("optimizer", "former"),
    [("sgd", {"eps_placement": "sqrt_v_hat"}), ("adam", {"velocity": "gradient"})],
)
def test_files_written_before_framework_conventions_still_read(optimizer, former):
    """Earlier files wrote the other optimizer's convention at its default then."""
    table = {"name": optimizer, **former, "weight_decay_form": "coupled"}
    spec = ModelSpec.from_dict({"network": {"layers": [4, 2]}, "training": {"optimizer": table}})
    assert spec.training.optimizer.weight_decay_form == "coupled"  # pinned, as it was written
    assert (spec.training.optimizer.eps_placement, spec.training.optimizer.velocity) == (
        "framework",
        "framework",
    )
    other = "eps_hat" if optimizer == "sgd" else "step"
    wrong = {"name": optimizer, next(iter(former)): other}  # any other value is still an error
    with pytest.raises(SpecError, match="is for name"):
        ModelSpec.from_dict({"network": {"layers": [4, 2]}, "training": {"optimizer": wrong}})
