"""Shared fixtures: one real run of the quick experiment in every framework, reused by tests.

The tests train on the real MNIST files (MNIST_MIRROR points at a local copy) and need every
framework installed: a missing one fails the tests, it is never skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlp_compare import cores
from mlp_compare.cli import main
from mlp_compare.records import Results

# The cores this test process may use when it starts. A command run with --threads N confines
# the whole process to N of them (mlp-jax's set_threads: XLA sizes its CPU pool by the cores
# it may use), as it would a `mlp-compare` process of its own.
CORES = cores.usable()


@pytest.fixture(autouse=True)
def every_core() -> None:
    """Each test starts on the cores the process started with, as a new process would."""
    if CORES is not None:
        cores.pin(CORES)


def invoke(*args: str, env: dict[str, str] | None = None):
    """Run the command line in-process; returns click's Result."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def validate(document: dict) -> Results:
    """The document read as the results model; pydantic's ValidationError when it breaks it."""
    return Results.model_validate(document)


def as_version(document: dict, version: int) -> dict:
    """A version 3 document in the shape an earlier version wrote (schema 2: no options,
    sessions, display names, task fields; schema 1: no seeds, divergences, predictions, best
    weights or update gaps either)."""
    old = json.loads(json.dumps(document))
    old["schema_version"] = version
    del old["options"], old["sessions"]
    for info in old["environment"]["frameworks"].values():
        del info["display"]
    for experiment in old["experiments"]:
        experiment["study"] = None
        del experiment["defaults_weights"]
        for variant in experiment["variants"]:
            del variant["default"]
        for run in experiment["runs"]:
            del run["experiment"], run["conventions"], run["worker"]
        equivalence = experiment["equivalence"]
        if equivalence:
            del equivalence["optimizer"], equivalence["lr"]
            for curve in equivalence["curves"]:
                del curve["reference_conventions"]
        if version == 1:
            del experiment["best_weights"], experiment["seeds"]
            for run in experiment["runs"]:
                del run["seed"], run["divergence"], run["test_predictions"]
            for curve in equivalence["curves"] if equivalence else []:
                del curve["largest_update_gap"]
    return old


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mlp-compare run --all --experiment quick` into a fresh folder."""
    out = tmp_path_factory.mktemp("quick") / "run"
    result = invoke(
        "run", "--all", "--experiment", "quick", "--out", str(out), "--equivalence-steps", "5"
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def quick_results(quick_run: Path) -> dict:
    return json.loads((quick_run / "results.json").read_text())
