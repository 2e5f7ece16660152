"""Command-line errors, experiment files, train/evaluate across frameworks, equivalence, bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke

from mlp_compare.experiment import ExperimentError, load_experiment, shipped_names
from mlp_compare.frameworks import names
from mlp_numpy import Model
from mlp_numpy.initializers import initial_layers
from mlp_numpy.spec import Loss, ModelSpec, Network

QUICK = (Path(__file__).parents[1] / "src/mlp_compare/experiments/quick.toml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--framework", "mxnet"], "Invalid value for '--framework'"),
        (["train", "--framework", "mxnet"], "Invalid value for '--framework'"),
        (["run", "--device", "tpu"], "Invalid value for '--device'"),
        (["run", "--epochs", "0"], "Invalid value for '--epochs'"),
        (["run", "--all", "--framework", "numpy"], "--all already means every framework"),
        (["run", "--no-such-option"], "No such option"),
        (["evaluate", "--framework", "numpy"], "Missing option '--weights'"),
    ],
)
def test_bad_options_get_a_usage_error(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Usage: " in result.output


@pytest.mark.parametrize(
    ("replace", "by", "field"),
    [
        ("batch_size = 64", "batch_size = 0", "training.batch_size"),
        ('train = "stratified"', 'train = "some"', "data.train"),
        ('name = "adam"', 'name = "adamw"', "training.optimizer.name"),
        ("[data]", "[data]\ncolour = 3", "data.colour"),
        ('output = "softmax"', 'output = "sigmoid"', "loss"),
    ],
)
def test_a_bad_experiment_file_names_the_field(
    tmp_path: Path, replace: str, by: str, field: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(QUICK.replace(replace, by, 1))
    result = invoke("run", "-e", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"{path}: {field}" in result.output
    assert not (tmp_path / "out").exists()


def test_a_bad_variant_names_the_variant_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(QUICK + '\n[[variants]]\nname = "odd"\nset.loss.name = "hinge"\n')
    with pytest.raises(ExperimentError, match=r"variants\[odd\]\.set\.loss\.name"):
        load_experiment(str(path))
    path.write_text(QUICK + '\n[[variants]]\nname = "late"\ninit_from = "later"\n')
    with pytest.raises(ExperimentError, match=r"variants\[late\]\.init_from"):
        load_experiment(str(path))


BINARY = (
    QUICK.replace("layers = [784, 32, 10]", 'layers = [784, 32, 1]\ntask = "binary"')
    .replace('output = "softmax"', 'output = "sigmoid"')
    .replace('name = "cross_entropy"', 'name = "bce"')
)


@pytest.mark.parametrize("command", ["run", "train"])
def test_an_experiment_of_another_task_is_refused_by_name(tmp_path: Path, command: str) -> None:
    path = tmp_path / "binary.toml"
    path.write_text(BINARY)
    saved = ["-f", "numpy", "--save", str(tmp_path / "out" / "w.safetensors")]
    out = ["--out", str(tmp_path / "out")] if command == "run" else saved
    result = invoke(command, "-e", str(path), *out)
    assert result.exit_code == 1
    assert (
        f'{path}: network.task: mlp-compare compares classifiers on MNIST; network.task = "binary" '
        "is trained with the backends' train() directly"
    ) in result.output
    assert not (tmp_path / "out").exists()
    path.write_text(
        QUICK + '\n[[variants]]\nname = "base"\n\n[[variants]]\nname = "values"\n'
        'set.network = { layers = [784, 32, 1], output = "identity", task = "regression" }\n'
        'set.loss.name = "mse"\n'
    )
    with pytest.raises(
        ExperimentError, match=r'variants\[values\]\.set\.network\.task: .*"regression"'
    ):
        load_experiment(str(path))


def test_evaluate_refuses_weights_of_another_task(tmp_path: Path) -> None:
    spec = ModelSpec(Network((784, 4, 1), output="identity", task="regression"), Loss("mse"))
    path = tmp_path / "regression.safetensors"
    Model(spec.network, initial_layers(spec), spec).save(path)
    result = invoke("evaluate", "-f", "numpy", "-w", str(path), "-e", "quick")
    assert result.exit_code == 1
    assert f'{path}: mlp-compare compares classifiers on MNIST; network.task = "regression"' in (
        result.output
    )


def test_shipped_experiments_load_with_their_variants() -> None:
    names = shipped_names()
    assert names[:2] == ["quick", "baseline"]
    expected = {"methodology", "sgd-deep", "adam", "tiny-full-batch", "best"}
    assert expected <= set(names)
    study = load_experiment("methodology", epochs=3)
    losses = {(v.spec.loss.name, v.spec.loss.reduction) for v in study.variants}
    assert losses == {("bce", "sum_outputs"), ("mse", "mean")}
    assert len(study.variants) == 8
    assert all(v.spec.training.epochs == 3 for v in study.variants)
    assert study.variant("b32-from-b1-mse").init_from == "b1-s0.01-bce"
    assert study.variant("b32-s0.1-bce").spec.init.scale == 0.1


def test_train_in_one_framework_evaluate_in_every_other(tmp_path: Path) -> None:
    weights = tmp_path / "quick.safetensors"
    result = invoke("train", "-f", "numpy", "-e", "quick", "--save", str(weights), "--quiet")
    assert result.exit_code == 0, result.output
    accuracies = {}
    for framework in ("numpy", "torch", "tf", "jax"):
        result = invoke("evaluate", "-f", framework, "-w", str(weights), "-e", "quick", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["samples"] == 2000 and len(report["per_class_accuracy"]) == 10
        accuracies[framework] = report["accuracy"]
    assert accuracies["numpy"] > 0.8
    for framework in ("torch", "tf", "jax"):
        assert abs(accuracies[framework] - accuracies["numpy"]) <= 0.001  # ≤ 2 borderline images


def test_evaluate_rejects_a_file_that_is_not_weights(tmp_path: Path) -> None:
    path = tmp_path / "not-weights.safetensors"
    path.write_bytes(b"hello")
    result = invoke("evaluate", "-f", "numpy", "-w", str(path), "-e", "quick")
    assert result.exit_code == 1
    assert str(path) in result.output


def test_equivalence_in_float64_agrees_to_rounding(tmp_path: Path) -> None:
    args = ["equivalence", "-e", "quick", "--steps", "8", "--dtype", "float64", "--json"]
    result = invoke(*args, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["reference"] == "numpy/cpu" and report["steps"] == 8
    assert {c["framework"] for c in report["curves"]} == {"torch", "tf", "jax"}
    for curve in report["curves"]:
        assert max(curve["max_weight_diff"]) < 1e-10, curve["framework"]
        assert max(curve["loss_diff"]) < 1e-10, curve["framework"]
    assert (tmp_path / "equivalence.png").read_bytes()[:4] == b"\x89PNG"


def test_bench_times_engines_next_to_products_and_tutorial_loops() -> None:
    args = ["--layers", "784-16-10", "--batch-size", "100", "--samples", "3000"]
    result = invoke("bench", "--json", "-d", "cpu", *args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["samples"] == 3000 and report["steps_per_epoch"] == 30
    rows = {(r["framework"], r["measure"]): r for r in report["rows"]}
    assert {framework for framework, _ in rows} == set(names())  # every installed backend
    for framework in names():
        for measure in ("products", "engine", "tutorial"):
            row = rows[(framework, measure)]
            assert row["status"] == "ok", row
            assert row["seconds_per_epoch"] > 0
            assert row["seconds_per_step"] * report["steps_per_epoch"] == pytest.approx(
                row["seconds_per_epoch"]
            )
        assert rows[(framework, "tutorial")]["ratio_to_engine"] > 0
        assert rows[(framework, "engine")]["ratio_to_products"] > 0
