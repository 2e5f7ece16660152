"""`train` records the experiment's preprocessing in the weight file and `evaluate` applies
it to the raw test images, in every framework; a version 1 file needs `--scaling`; an
unwritable `--out` is a clean error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import invoke

import mlp_numpy
from mlp_numpy.preprocessing import standardized
from mlp_numpy.weights import load_weights, save_weights

FRAMEWORKS = ("numpy", "torch", "tf", "jax")  # each trains, each evaluates: 4 × 4
QUICK = (Path(__file__).parents[1] / "src/mlp_compare/experiments/quick.toml").read_text()


@pytest.fixture(scope="module")
def standardized_experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick experiment on standardized pixels, one epoch."""
    path = tmp_path_factory.mktemp("experiment") / "standardized.toml"
    text = QUICK.replace('scaling = "normalize"', 'scaling = "standardize"')
    path.write_text(text.replace("epochs = 2", "epochs = 1"))
    return path


@pytest.fixture(scope="module")
def trained(
    standardized_experiment: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, float]]:
    """Each framework's weight file and the test accuracy (%) its training reported."""
    folder = tmp_path_factory.mktemp("weights")
    files = {}
    for framework in FRAMEWORKS:
        path = folder / f"{framework}.safetensors"
        result = invoke(
            "train", "-f", framework, "-e", str(standardized_experiment), "--save", str(path)
        )
        assert result.exit_code == 0, result.output
        reported = re.search(r"test accuracy (\d+\.\d+)%", result.output)
        assert reported, result.output
        files[framework] = (path, float(reported.group(1)))
    return files


def accuracy(framework: str, weights: Path, experiment: Path, *options: str) -> float:
    result = invoke(
        "evaluate", "-f", framework, "-w", str(weights), "-e", str(experiment), "--json", *options
    )
    assert result.exit_code == 0, result.output
    return 100 * json.loads(result.output)["accuracy"]


def test_a_standardized_network_keeps_its_accuracy_in_every_framework(
    trained: dict[str, tuple[Path, float]], standardized_experiment: Path
) -> None:
    for trainer, (weights, reported) in trained.items():
        assert load_weights(weights).preprocessing == standardized()
        assert reported > 80
        for framework in FRAMEWORKS:
            measured = accuracy(framework, weights, standardized_experiment)
            if framework == trainer:
                assert round(measured, 2) == reported  # the same images, the same inputs
            else:
                assert abs(measured - reported) <= 0.1  # float rounding: ≤ 2 borderline images


def test_a_version_1_file_needs_its_scaling(
    trained: dict[str, tuple[Path, float]], standardized_experiment: Path, tmp_path: Path
) -> None:
    weights, reported = trained["numpy"]
    model = mlp_numpy.load(weights)
    old = tmp_path / "v1.safetensors"
    save_weights(old, model.layers(), model.network, producer="old", spec=model.spec)
    assert load_weights(old).format_version == 1

    args = ("evaluate", "-f", "numpy", "-w", str(old), "-e", str(standardized_experiment))
    result = invoke(*args)
    assert result.exit_code == 1
    assert f"{old} is a version 1 weight file" in result.output
    assert "--scaling none|unit|standardize" in result.output

    assert (
        round(accuracy("numpy", old, standardized_experiment, "--scaling", "standardize"), 2)
        == reported
    )
    assert accuracy("numpy", old, standardized_experiment, "--scaling", "unit") < reported - 5


def test_scaling_that_contradicts_the_file_is_refused(
    trained: dict[str, tuple[Path, float]], standardized_experiment: Path
) -> None:
    weights, _ = trained["numpy"]
    args = ("-w", str(weights), "-e", str(standardized_experiment), "--scaling", "unit")
    result = invoke("evaluate", "-f", "numpy", *args)
    assert result.exit_code == 1
    assert "--scaling unit contradicts the preprocessing" in result.output


@pytest.mark.parametrize("command", ["run", "equivalence"])
def test_an_unwritable_out_folder_is_a_clean_error(command: str) -> None:
    args = ["-e", "quick", "--out", "/proc/nope"]
    if command == "run":
        args += ["-f", "numpy", "--quiet"]
    result = invoke(command, *args)
    assert result.exit_code == 1
    assert "--out /proc/nope: cannot create the folder" in result.output
    assert "Traceback" not in result.output
