"""`mlp-compare run` for real, on the quick experiment: results, schema, plots and report."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import as_version, invoke, validate
from pydantic import ValidationError

from mlp_compare.frameworks import names

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUICK = (Path(__file__).parents[1] / "src/mlp_compare/experiments/quick.toml").read_text()


def test_every_framework_trains_on_the_cpu(quick_results: dict) -> None:
    (experiment,) = quick_results["experiments"]
    cpu_runs = {
        r["framework"]: r
        for r in experiment["runs"]
        if r["device"] == "cpu" and r["conventions"] is None
    }
    assert set(cpu_runs) == set(names())
    for name, run in cpu_runs.items():
        assert run["status"] == "ok", (name, run["reason"])
        metrics = run["metrics"]
        assert metrics["final_test_accuracy"] > 0.8, name  # 10 classes: chance is 0.1
        assert len(run["history"]) == metrics["epochs"] == 2
        assert np.asarray(metrics["confusion_matrix"]).sum() == experiment["data_sizes"]["test"]
        assert metrics["parameters"] == 784 * 32 + 32 + 32 * 10 + 10


def test_frameworks_agree_on_the_same_weights_and_batches(quick_results: dict) -> None:
    """Each framework against the reference under its own conventions: Keras's Adam puts ε
    elsewhere (ε̂), so TensorFlow is compared with the reference under its conventions."""
    (experiment,) = quick_results["experiments"]
    curves = experiment["equivalence"]["curves"]
    assert {c["framework"] for c in curves} == set(names()) - {"numpy"}
    under = {c["framework"]: c["reference_conventions"] for c in curves}
    assert under["torch"] is None and under["tf"] == "tf"
    for curve in curves:
        assert len(curve["max_weight_diff"]) == 5
        assert max(curve["max_weight_diff"]) < 1e-4, curve["framework"]  # float32 rounding


def test_the_reference_also_runs_under_each_other_set_of_conventions(
    quick_run: Path, quick_results: dict
) -> None:
    (experiment,) = quick_results["experiments"]
    (reference,) = [r for r in experiment["runs"] if r["conventions"] is not None]
    assert (reference["framework"], reference["conventions"]) == ("numpy", "tf")
    assert reference["status"] == "ok"
    report = (quick_run / "report.md").read_text()
    assert (
        "base: TensorFlow follows other conventions than NumPy's own: "
        "training.optimizer.eps_placement eps_hat (NumPy: sqrt_v_hat). NumPy under TensorFlow's "
        "conventions reaches "
    ) in report
    assert "| base | NumPy/cpu under TensorFlow's conventions | " in report


def test_results_validate_against_the_schema(quick_results: dict) -> None:
    validate(quick_results)
    assert quick_results["status"] == "complete"
    assert quick_results["command"].startswith("mlp-compare run --all --experiment quick --out")
    assert quick_results["environment"]["cpu_count"] >= 1
    assert quick_results["environment"]["threads"]["numpy_blas"] == 1  # --threads 1, the default
    assert quick_results["environment"]["threads"]["torch_intra_op"] == 1


def test_the_results_model_rejects_a_broken_document(quick_results: dict) -> None:
    broken = copy.deepcopy(quick_results)
    broken["experiments"][0]["runs"][0]["metrics"]["final_test_accuracy"] = 1.5
    with pytest.raises(ValidationError, match=r"runs\.0\.metrics\.final_test_accuracy"):
        validate(broken)
    del broken["environment"]
    with pytest.raises(ValidationError, match="environment"):
        validate(broken)


def test_every_plot_is_a_real_png(quick_run: Path) -> None:
    plots = sorted((quick_run / "plots").glob("*.png"))
    names = {p.name for p in plots}
    kinds = ("curves", "time", "per-class", "confusion", "equivalence", "misclassified", "weights")
    for kind in kinds:
        assert f"quick-{kind}.png" in names
    for path in plots:
        assert path.read_bytes()[:8] == PNG_SIGNATURE, path
        image = plt.imread(path)
        assert image.shape[0] > 100 and image.shape[1] > 100, path
        assert image[..., :3].std() > 0.05, f"{path} is blank"  # something was drawn


def test_the_report_names_every_framework_and_device(quick_run: Path, quick_results: dict) -> None:
    report = (quick_run / "report.md").read_text()
    for name in ("NumPy", "PyTorch", "TensorFlow", "cpu", "gpu"):
        assert name in report
    assert "| base | NumPy/cpu | " in report
    for link in ("plots/quick-curves.png", "plots/quick-equivalence.png"):
        assert f"]({link})" in report
    rows = list(csv.DictReader((quick_run / "results.csv").open()))
    assert len(rows) == len(quick_results["experiments"][0]["runs"])
    assert {"seconds_training", "cpu_seconds", "median_epoch_seconds"} <= set(rows[0])


def test_the_report_opens_with_the_answer(quick_run: Path, quick_results: dict) -> None:
    report = (quick_run / "report.md").read_text()
    summary = report[report.index("## Summary") : report.index("## Environment")]
    # The reference first, then the backends found through entry points, by name, then the
    # reference under the conventions of the frameworks whose built-ins differ from its own.
    assert (
        "**Compared:** NumPy/cpu, JAX/cpu, TensorFlow/cpu, PyTorch/cpu, NumPy/cpu under "
        "TensorFlow's conventions on 1 experiment(s)"
    ) in summary
    assert "**Same network?** yes: in all 1 lockstep checks" in summary
    assert "**Accuracy:** in 1 of 1 compared variants every finished run reaches" in summary
    speed = next(line for line in summary.splitlines() if line.startswith("**Speed:** "))
    assert "PyTorch/cpu takes " in speed and "TensorFlow/cpu takes " in speed
    assert len(summary.splitlines()) < 40  # fits a screen
    # One line per framework × device that did not run, not one per variant.
    assert summary.count("- NumPy on gpu: no gpu visible to NumPy (devices: cpu).") == 1
    assert summary.count("- PyTorch on gpu: ") == 1
    findings = report[report.index("### Findings") :]
    assert "reach the same test accuracy within noise" in findings
    assert "Noise: one seed only: 2√2 SE, where SE = √(p(1 − p)/n) = 0.72 points" in findings
    assert "differences below 2√2 SE (2.04 points here) cannot be told from noise" in findings
    assert "*process CPU (s)* is the CPU time of the process that trained the run" in report
    assert "Times measured in one process, one run at a time, 1 thread." in report
    for gallery in ("quick-misclassified.png", "quick-weights.png"):
        assert f"](plots/{gallery})" in report
    assert "predict different digits for" in report


def test_runs_keep_their_predictions_and_the_best_weights(
    quick_run: Path, quick_results: dict
) -> None:
    import mlp_numpy

    (experiment,) = quick_results["experiments"]
    for run in experiment["runs"]:
        if run["status"] == "ok":
            predicted = run["test_predictions"]
            assert len(predicted) == experiment["data_sizes"]["test"] and predicted.isdigit()
            correct = np.asarray(run["metrics"]["confusion_matrix"]).trace()
            assert correct == round(run["metrics"]["final_test_accuracy"] * len(predicted))
    best = experiment["best_weights"]
    model = mlp_numpy.load(quick_run / best["path"])
    assert model.layers()[0].weight.shape == (32, 784)


def test_report_renders_again_from_results_json(quick_run: Path, tmp_path: Path) -> None:
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    (copy_dir / "results.json").write_bytes((quick_run / "results.json").read_bytes())
    (copy_dir / "weights").mkdir()
    for item in (quick_run / "weights").iterdir():
        (copy_dir / "weights" / item.name).write_bytes(item.read_bytes())
    result = invoke("report", str(copy_dir))
    assert result.exit_code == 0, result.output
    assert (copy_dir / "report.md").read_text() == (quick_run / "report.md").read_text()
    rendered = {p.name for p in (copy_dir / "plots").glob("*.png")}
    assert rendered == {p.name for p in (quick_run / "plots").glob("*.png")}


def test_an_old_run_folder_renders_and_says_what_it_lacks(quick_run: Path, tmp_path: Path) -> None:
    """A schema-1 results.json has no predictions and no weights: the report says so."""
    document = as_version(json.loads((quick_run / "results.json").read_text()), 1)
    (tmp_path / "results.json").write_text(json.dumps(document))
    result = invoke("report", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = (tmp_path / "report.md").read_text()
    assert "No test predictions in this results.json" in report
    assert "No saved weights in this run folder" in report
    assert "## Summary" in report and "reach the same test accuracy within noise" in report
    assert not list((tmp_path / "plots").glob("*-misclassified.png"))
    # Measuring the equivalence again adds what explains a parted trajectory, and says when.
    result = invoke("report", str(tmp_path), "--equivalence-steps", "3")
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "results.json").read_text())
    validate(document)
    measured = document["experiments"][0]["equivalence"]
    assert measured["steps"] == 3 and measured["remeasured"]["command"].startswith(
        "mlp-compare report "
    )
    assert all(len(c["largest_update_gap"]) == 3 for c in measured["curves"])
    assert "The equivalence below was measured again" in (tmp_path / "report.md").read_text()


def test_report_refuses_a_results_file_that_breaks_the_schema(
    quick_run: Path, tmp_path: Path
) -> None:
    document = json.loads((quick_run / "results.json").read_text())
    document["experiments"][0]["runs"][0]["status"] = "great"
    (tmp_path / "results.json").write_text(json.dumps(document))
    result = invoke("report", str(tmp_path))
    assert result.exit_code == 1
    assert "runs[0].status" in result.output


def test_a_missing_framework_is_reported_with_reason_and_hint(tmp_path: Path) -> None:
    env = {"MLP_COMPARE_MODULES": "tf=mlp_tf_is_not_installed_here"}
    args = ["run", "-f", "numpy,tf", "-d", "cpu", "-e", "quick", "--epochs", "1"]
    result = invoke(*args, "--out", str(tmp_path), "--quiet", env=env)
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "results.json").read_text())
    validate(document)
    runs = {r["framework"]: r for r in document["experiments"][0]["runs"]}
    assert runs["numpy"]["status"] == "ok"
    assert runs["tf"]["status"] == "skipped"
    assert "mlp_tf_is_not_installed_here" in runs["tf"]["reason"]
    assert runs["tf"]["hint"].startswith("pip install packages/mlp-tf")
    report = (tmp_path / "report.md").read_text()
    # A backend that does not import cannot give its display name: its package names it.
    assert "- mlp-tf on cpu: mlp-tf does not import: ModuleNotFoundError" in report
    assert "Install: `pip install packages/mlp-tf" in report


def test_the_methodology_study_splits_framework_from_method(tmp_path: Path) -> None:
    """Every variant × loss in every framework; the batch-32 runs start from NumPy's batch-1.

    The shipped study with 300 images and a 20× learning rate, so that one epoch learns.
    """
    shipped = Path(__file__).parents[1] / "src/mlp_compare/experiments/methodology.toml"
    text = shipped.read_text().replace("train_size = 1000", "train_size = 300")
    text = text.replace(
        "values = [0.005, 0.003, 0.001, 0.0005]", "values = [0.1, 0.06, 0.02, 0.01]"
    )
    experiment = tmp_path / "study.toml"
    experiment.write_text(text)
    args = ["run", "-d", "cpu", "-e", str(experiment), "--epochs", "1", "--equivalence-steps", "3"]
    result = invoke(*args, "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "run/results.json").read_text())
    validate(document)
    runs = document["experiments"][0]["runs"]
    assert len(runs) == 8 * len(names())
    assert all(r["status"] == "ok" for r in runs), [r["reason"] for r in runs]
    by_key = {(r["variant"], r["framework"]): r["metrics"]["final_test_accuracy"] for r in runs}
    trained_b1 = by_key[("b1-s0.01-bce", "numpy")]
    assert trained_b1 > 0.3  # chance is 0.1
    for framework in names():
        # Starting from NumPy's trained batch-1 weights keeps their accuracy; ten batch-32
        # steps from scratch do not get there.
        assert by_key[("b32-from-b1-bce", framework)] > trained_b1 - 0.05, framework
        assert by_key[("b32-s0.01-bce", framework)] < trained_b1 - 0.2, framework
    report = (tmp_path / "run/report.md").read_text()
    for framework in ("PyTorch", "TensorFlow"):
        assert f"| b1-s0.01-bce | b1-s0.01-mse | {framework} | " in report
    assert "| framework part | method part |" in report
    assert "the gap is mostly the" in report


def test_a_diverged_run_is_named_and_no_agreement_is_claimed(tmp_path: Path) -> None:
    """Plain SGD at lr = 1e6 on the quick experiment: no framework can train."""
    text = QUICK.replace('name = "adam"', 'name = "sgd"').replace("lr = 0.002", "lr = 1e6")
    experiment = tmp_path / "diverge.toml"
    experiment.write_text(text)
    args = ["run", "-d", "cpu", "-e", str(experiment), "--equivalence-steps", "5"]
    result = invoke(*args, "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "run/results.json").read_text())
    validate(document)
    runs = document["experiments"][0]["runs"]
    diverged = [r for r in runs if r["status"] == "diverged"]
    assert diverged, [r["status"] for r in runs]
    report = (tmp_path / "run/report.md").read_text()
    names = {"numpy": "NumPy", "torch": "PyTorch", "tf": "TensorFlow", "jax": "JAX"}
    for run in diverged:
        where = run["divergence"]
        label = f"{names[run['framework']]}/cpu"
        assert (
            f"{label} diverged at epoch {where['epoch']}, step {where['step']} (lr 1e+06)" in report
        )
    assert "same test accuracy" not in report
    assert "**Same network?** yes" not in report
    assert "parts from NumPy/cpu's trajectory" in report


def test_images_the_frameworks_disagree_on_are_shown(quick_run: Path, tmp_path: Path) -> None:
    """Three test images predicted otherwise by PyTorch: the gallery shows exactly them.

    The runs first get NumPy's predictions, since float32 runs of different frameworks may
    already disagree on a borderline image or two."""
    document = json.loads((quick_run / "results.json").read_text())
    runs = document["experiments"][0]["runs"]
    numpy_run = next(r for r in runs if r["framework"] == "numpy" and r["status"] == "ok")
    for run in runs:
        if run["status"] == "ok":
            run["test_predictions"] = numpy_run["test_predictions"]
    torch_run = next(r for r in runs if r["framework"] == "torch" and r["status"] == "ok")
    digits = list(torch_run["test_predictions"])
    for index in (3, 50, 700):
        digits[index] = str((int(digits[index]) + 1) % 10)
    torch_run["test_predictions"] = "".join(digits)
    (tmp_path / "results.json").write_text(json.dumps(document))
    result = invoke("report", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = (tmp_path / "report.md").read_text()
    assert "the 4 finished runs predict different digits for 3 of 2,000 test images" in report
    assert "](plots/quick-disagreements.png)" in report
    gallery = tmp_path / "plots/quick-disagreements.png"
    assert gallery.read_bytes()[:8] == PNG_SIGNATURE
    assert plt.imread(gallery)[..., :3].std() > 0.05


def test_a_framework_without_the_pinned_convention_is_left_out_of_the_lockstep(
    tmp_path: Path,
) -> None:
    """Keras's ε placement pinned: PyTorch and JAX have no such Adam, so their runs are not
    run and the lockstep check goes on without them, naming them and the field."""
    text = QUICK.replace('name = "adam"', 'name = "adam"\neps_placement = "eps_hat"')
    experiment = tmp_path / "eps-hat.toml"
    experiment.write_text(text.replace("epochs = 2", "epochs = 1"))
    args = ["run", "-d", "cpu", "-e", str(experiment), "--equivalence-steps", "3"]
    result = invoke(*args, "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "run/results.json").read_text())
    validate(document)
    (record,) = document["experiments"]
    lacking = {"torch", "jax"} & set(names())
    equivalence = record["equivalence"]
    assert {n["framework"] for n in equivalence["not_run"]} == lacking
    for left_out in equivalence["not_run"]:
        assert left_out["reason"].startswith("training.optimizer.eps_placement: ")
    assert {c["framework"] for c in equivalence["curves"]} == set(names()) - {"numpy"} - lacking
    for curve in equivalence["curves"]:
        assert max(curve["max_weight_diff"]) < 1e-4, curve["framework"]
    report = (tmp_path / "run/report.md").read_text()
    assert "every framework checked stays on NumPy's trajectory" in report
    assert "left out of the check, as their runs are not run: " in report
    for name in ("PyTorch", "JAX"):
        assert f"{name}/cpu in `quick` (training.optimizer.eps_placement)" in report
