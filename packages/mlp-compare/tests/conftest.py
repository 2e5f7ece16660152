"""Shared fixtures: one real run of the quick experiment in every framework, reused by tests.

The tests train on the real MNIST files (MNIST_MIRROR points at a local copy) and need every
framework installed: a missing one fails the tests, it is never skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlp_compare.cli import main


def invoke(*args: str, env: dict[str, str] | None = None):
    """Run the command line in-process; returns click's Result."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


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
