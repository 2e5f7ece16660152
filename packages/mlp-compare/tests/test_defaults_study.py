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
from conftest import as_version, invoke, validate

from mlp_compare.experiment import ExperimentError, load_experiment

SHIPPED = Path(__file__).parents[1] / "src/mlp_compare/experiments/defaults.toml"
ROWS = [v for v in load_experiment("defaults").variants if v.default is not None]
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
    results, report = study
    validate(results)
    (record,) = results["experiments"]
    assert record["seeds"] == [0, 1]
    for run in record["runs"]:
        assert run["seed"] in (0, 1)
    names = {"numpy": "NumPy", "torch": "PyTorch", "tf": "TensorFlow"}
    rows = 0
    for variant in {r["variant"] for r in record["runs"]}:
        for framework, name in names.items():
            values = accuracies(record, variant, framework)
            if len(values) < 2:
                continue
            mean, std = 100 * statistics.fmean(values), 100 * statistics.stdev(values)
            low, high = 100 * min(values), 100 * max(values)
            cells = (
                f"| {variant} | {name}/cpu | 2 | {mean:.2f} ± {std:.2f} ({low:.2f}–{high:.2f}) |"
            )
            assert cells in report, cells
            rows += 1
    assert rows >= 8


def test_conventions_a_framework_lacks_are_not_run_with_the_field_named(study):
    (record,) = study[0]["experiments"]
    status = {(r["variant"], r["framework"], r["seed"]): r for r in record["runs"]}
    for seed in (0, 1):
        torch_eps = status[("keras-eps-placement", "torch", seed)]
        assert torch_eps["status"] == "not_run"
        assert torch_eps["reason"].startswith("training.optimizer.eps_placement: ")
        tf_loss = status[("keras-loss-form", "tf", seed)]
        assert tf_loss["status"] == "not_run" and tf_loss["reason"].startswith("loss.form: ")
        assert status[("keras-tutorial", "torch", seed)]["status"] == "not_run"
        for framework in ("numpy", "torch"):
            assert status[("pytorch-defaults", framework, seed)]["status"] == "ok"
        # Keras's Adam adds ε before the bias correction: PyTorch's placement is not run.
        tf_defaults = status[("pytorch-defaults", "tf", seed)]
        assert tf_defaults["status"] == "not_run"
        assert tf_defaults["reason"].startswith("training.optimizer.eps_placement: ")


def test_the_weights_effects_are_measured_in_float64(study):
    (record,) = study[0]["experiments"]
    measured = record["defaults_weights"]
    assert (measured["steps"], measured["dtype"], measured["samples"]) == (200, "float64", 1000)
    effects = {r["variant"]: r["relative_weight_difference"] for r in measured["rows"]}
    assert set(effects) == {row.name for row in ROWS}
    starts = {r["variant"]: (r["own_start"], r["other_order"]) for r in measured["rows"]}
    assert starts["keras-init"] == (True, False)  # what each row changes, read from its spec
    assert starts["framework-order"] == (False, True)
    assert starts["keras-eps"] == (False, False)
    assert effects["keras-init"] > 0.1  # another start entirely
    assert effects["framework-order"] > 1e-3  # another order of the same images
    assert 0 < effects["keras-eps"] < effects["keras-init"]


def test_the_table_and_finding_agree_with_the_numbers(study):
    results, report = study
    (record,) = results["experiments"]
    assert "| default | PyTorch | Keras | Flax | effect on test accuracy" in report
    lines = {line.split(" | ")[0].strip("| "): line for line in report.splitlines()}
    for row in ROWS:
        assert row.default is not None
        line = lines[row.default.name]
        base = accuracies(record, "pytorch-defaults", "numpy")
        switched = accuracies(record, row.name, "numpy")
        delta = 100 * (statistics.fmean(switched) - statistics.fmean(base))
        assert f"NumPy {delta:+.2f} ±" in line, (row.default, line)
        weight = next(r for r in record["defaults_weights"]["rows"] if r["variant"] == row.name)
        assert f"{weight['relative_weight_difference']:.1e} largest" in line
        assert f"{weight['relative_norm_difference']:.1e} in norm" in line
    assert "PyTorch: not run (training.optimizer.eps_placement: " in lines["Adam ε placement"]
    # NumPy's own order is the shared one: the data-order row's NumPy runs are the base's.
    order = lines["data order"]
    assert "NumPy +0.00 ± " in order and "(identical runs: every seed predicts as" in order
    assert "identical runs" not in lines["initialization (Keras's)"]
    gap = 100 * (
        statistics.fmean(accuracies(record, "keras-tutorial", "tf"))
        - statistics.fmean(accuracies(record, "pytorch-tutorial", "torch"))
    )
    defaults = 100 * (
        statistics.fmean(accuracies(record, "keras-tutorial", "numpy"))
        - statistics.fmean(accuracies(record, "pytorch-tutorial", "numpy"))
    )
    finding = next(line for line in report.splitlines() if "The tutorial gap" in line)
    assert f"(pytorch-tutorial), is {gap:+.2f} points" in finding
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


def test_a_version_2_study_is_read_with_the_shipped_description(study):
    """Schema 2 named the study "defaults" and kept its rows in code: the upgrade takes them
    from the shipped defaults.toml, and each row's start and order from its spec."""
    results, _ = study
    old = as_version(results, 2)
    (record,) = old["experiments"]
    (new,) = results["experiments"]
    record["study"] = "defaults"
    notes = {(True, False): "another start", (False, True): "another permutation"}
    record["defaults_study"] = {
        **{k: new["defaults_weights"][k] for k in ("steps", "samples", "dtype")},
        "rows": [
            {
                "variant": row["variant"],
                "relative_weight_difference": row["relative_weight_difference"],
                "relative_norm_difference": row["relative_norm_difference"],
                "note": notes.get((row["own_start"], row["other_order"]), "same start and batches"),
            }
            for row in new["defaults_weights"]["rows"]
        ],
    }
    upgraded = validate(old)
    (experiment,) = upgraded.experiments
    assert experiment.study is not None and experiment.study.base == "pytorch-defaults"
    assert [v.default.name for v in experiment.variants if v.default] == [
        row.default.name for row in ROWS if row.default
    ]
    assert experiment.defaults_weights is not None
    assert [w.model_dump() for w in experiment.defaults_weights.rows] == new["defaults_weights"][
        "rows"
    ]
