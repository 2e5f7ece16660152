"""The framework-defaults study through the real command line, on a small configuration
(1 000 images, one epoch, 2 seeds): its table and finding are present and agree with its
numbers; `--seeds`; `mlp-compare defaults --json` against the installed frameworks."""

from __future__ import annotations

import inspect
import json
import re
import statistics
from pathlib import Path

import pytest
from conftest import invoke

from mlp_compare.defaults_study import ROWS
from mlp_compare.experiment import ExperimentError, load_experiment
from mlp_compare.schema import validate

SHIPPED = Path(__file__).parents[1] / "src/mlp_compare/experiments/defaults.toml"
SMALL_DATA = """[data]
train = "first"
train_size = 1000
test = "first"
test_size = 1000
scaling = "normalize"
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    folder = tmp_path_factory.mktemp("defaults")
    text = SHIPPED.read_text()
    text = re.sub(r"\[data\]\n(?:[a-z_]+ = .*\n)+", SMALL_DATA, text)
    assert "train_size = 1000" in text
    small = folder / "defaults-small.toml"
    small.write_text(text)
    out = folder / "run"
    result = invoke(
        "run", "-e", str(small), "--device", "cpu", "--epochs", "1", "--seeds", "0-1",
        "--equivalence-steps", "0", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads((out / "results.json").read_text()), (out / "report.md").read_text()


def accuracies(record: dict, variant: str, framework: str) -> list[float]:
    return [
        r["metrics"]["final_test_accuracy"]
        for r in record["runs"]
        if r["variant"] == variant and r["framework"] == framework and r["status"] == "ok"
    ]


def test_every_configuration_runs_once_per_seed(study):
    results, _ = study
    validate(results)
    (record,) = results["experiments"]
    assert record["seeds"] == [0, 1]
    for run in record["runs"]:
        assert run["seed"] in (0, 1)
    for entry in record["seed_summary"]:
        values = accuracies(record, entry["variant"], entry["framework"])
        summary = entry["metrics"]["final_test_accuracy"]
        assert entry["seeds"] == [0, 1] and summary["n"] == 2
        assert summary["mean"] == pytest.approx(statistics.fmean(values))
        assert summary["std"] == pytest.approx(statistics.stdev(values))
        assert (summary["min"], summary["max"]) == (min(values), max(values))


def test_conventions_a_framework_lacks_are_skipped_with_the_field_named(study):
    (record,) = study[0]["experiments"]
    status = {(r["variant"], r["framework"], r["seed"]): r for r in record["runs"]}
    for seed in (0, 1):
        torch_eps = status[("keras-eps-placement", "torch", seed)]
        assert torch_eps["status"] == "skipped"
        assert "training.optimizer.eps_placement" in torch_eps["reason"]
        tf_loss = status[("keras-loss-form", "tf", seed)]
        assert tf_loss["status"] == "skipped" and "loss.form" in tf_loss["reason"]
        assert status[("keras-tutorial", "torch", seed)]["status"] == "skipped"
        for framework in ("numpy", "torch"):
            assert status[("pytorch-defaults", framework, seed)]["status"] == "ok"
        # Keras's Adam adds ε before the bias correction: PyTorch's placement is not run.
        tf_defaults = status[("pytorch-defaults", "tf", seed)]
        assert tf_defaults["status"] == "skipped"
        assert "training.optimizer.eps_placement" in tf_defaults["reason"]


def test_the_weights_effects_are_measured_in_float64(study):
    (record,) = study[0]["experiments"]
    measured = record["defaults_study"]
    assert (measured["steps"], measured["dtype"], measured["samples"]) == (200, "float64", 1000)
    effects = {r["variant"]: r["relative_weight_difference"] for r in measured["rows"]}
    assert set(effects) == {row.variant for row in ROWS}
    assert effects["keras-init"] > 0.1  # another start entirely
    assert effects["framework-order"] > 1e-3  # another order of the same images
    assert 0 < effects["keras-eps"] < effects["keras-init"]


def test_the_table_and_finding_agree_with_the_numbers(study):
    results, report = study
    (record,) = results["experiments"]
    assert "| default | PyTorch | Keras | effect on test accuracy" in report
    lines = {line.split(" | ")[0].strip("| "): line for line in report.splitlines()}
    for row in ROWS:
        line = lines[row.default]
        base = accuracies(record, "pytorch-defaults", "numpy")
        switched = accuracies(record, row.variant, "numpy")
        delta = 100 * (statistics.fmean(switched) - statistics.fmean(base))
        assert f"NumPy {delta:+.2f} ±" in line, (row.default, line)
        weight = next(r for r in record["defaults_study"]["rows"] if r["variant"] == row.variant)
        assert f"{weight['relative_weight_difference']:.1e} largest" in line
        assert f"{weight['relative_norm_difference']:.1e} in norm" in line
    assert "PyTorch: not run" in lines["Adam ε placement"]
    gap = 100 * (
        statistics.fmean(accuracies(record, "keras-tutorial", "tf"))
        - statistics.fmean(accuracies(record, "pytorch-tutorial", "torch"))
    )
    defaults = 100 * (
        statistics.fmean(accuracies(record, "keras-tutorial", "numpy"))
        - statistics.fmean(accuracies(record, "pytorch-tutorial", "numpy"))
    )
    finding = next(line for line in report.splitlines() if "The tutorial gap" in line)
    assert f"is {gap:+.2f} points" in finding
    assert f"account for {defaults:+.2f} points" in finding
    assert ("No default changes" in report) or ("beyond the seed spread (" in report)


def test_seeds_from_the_command_line_and_the_file(tmp_path):
    assert load_experiment("defaults").seeds == (0, 1, 2, 3, 4)
    assert load_experiment("defaults", seeds=(3, 7)).seeds == (3, 7)
    assert load_experiment("defaults", seed=2).seeds == ()
    bad = tmp_path / "bad.toml"
    bad.write_text('[experiment]\nname = "x"\nseeds = "4-1"\n[network]\nlayers = [4, 2]\n')
    with pytest.raises(ExperimentError, match=r"experiment\.seeds: '4-1' is not a range"):
        load_experiment(str(bad))
    result = invoke("run", "-e", "quick", "--seeds", "0-x", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "'0-x' is not a seed or a range" in result.output
    result = invoke("run", "-e", "quick", "--seeds", "1", "--seed", "1")
    assert result.exit_code == 2 and "--seed and --seeds exclude each other" in result.output


def test_defaults_json_reads_the_installed_frameworks():
    import flax
    import jax
    import keras
    import optax
    import tensorflow as tf
    import torch
    from torch.utils.data import DataLoader

    result = invoke("defaults", "--json")
    assert result.exit_code == 0, result.output
    table = json.loads(result.output[result.output.index("{") :])
    rows = {row["field"]: row for row in table["defaults"]}
    assert table["versions"] == {
        "torch": torch.__version__,
        "keras": f"{tf.__version__} (Keras {keras.__version__})",
        "flax": f"{jax.__version__} (Flax {flax.__version__}, Optax {optax.__version__})",
    }
    eps = rows["training.optimizer.eps"]
    assert (
        eps["torch"]["installed"] == inspect.signature(torch.optim.Adam).parameters["eps"].default
    )
    assert eps["keras"]["installed"] == keras.optimizers.Adam().epsilon
    assert eps["torch"]["installed"] == eps["torch"]["spec"]  # the spec reproduces them
    assert eps["keras"]["installed"] == eps["keras"]["spec"]
    dense = inspect.signature(keras.layers.Dense).parameters
    init = rows["init.scheme, init.bias"]
    assert init["keras"]["installed"] == (
        f"kernel {dense['kernel_initializer'].default}, bias {dense['bias_initializer'].default}"
    )
    assert "max|w|·√fan_in = 1.000" in init["torch"]["installed"]  # U(±1/√fan_in), measured
    shuffle = inspect.signature(DataLoader).parameters["shuffle"].default
    assert rows["training.batch_order"]["torch"]["installed"] == f"DataLoader shuffle={shuffle}"
    tf32 = rows["training.tf32"]
    assert tf32["torch"]["installed"] is torch.backends.cuda.matmul.allow_tf32
    assert tf32["keras"]["installed"] is tf.config.experimental.tensor_float_32_execution_enabled()
