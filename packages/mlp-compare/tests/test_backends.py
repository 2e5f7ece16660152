"""mlp-compare finds the backends through their entry points and treats every one alike:
a fifth backend, installed, appears and runs with no edit here; in every shipped experiment
the frameworks train with their own built-in optimizers."""

from __future__ import annotations

import json
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from conftest import invoke

from mlp_compare.experiment import load_experiment, shipped_names
from mlp_compare.frameworks import names
from mlp_numpy.backends import GROUP, discover, load
from mlp_numpy.conventions import FRAMEWORK, applicable

# A backend package as pip installs one: its module, and its distribution's metadata with the
# entry point. The module is the reference under another name.
FAKE_MODULE = """
from mlp_numpy.backend import *  # noqa: F403
from mlp_numpy.backend import __all__  # noqa: F401

NAME = "fifth"
DISPLAY_NAME = "Fifth"
DISTRIBUTION = "mlp-fifth"
"""
FAKE_METADATA = "Metadata-Version: 2.1\nName: mlp-fifth\nVersion: 0.3.0\n"
FAKE_ENTRY_POINTS = f"[{GROUP}]\nfifth = mlp_fifth_backend\n"


@pytest.fixture
def fifth_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fifth backend, installed into a folder on sys.path."""
    (tmp_path / "mlp_fifth_backend.py").write_text(FAKE_MODULE)
    info = tmp_path / "mlp_fifth-0.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(FAKE_METADATA)
    (info / "entry_points.txt").write_text(FAKE_ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fifth"


def test_list_shows_the_backends_found_through_entry_points() -> None:
    result = invoke("list", "--json")
    assert result.exit_code == 0, result.output
    listed = {item["name"]: item for item in json.loads(result.output)["frameworks"]}
    registered = {point.name: point.value for point in entry_points(group=GROUP)}
    assert set(listed) == set(registered) >= {"numpy", "torch", "tf", "jax"}
    for name, item in listed.items():
        assert item["module"] == registered[name] and item["installed"], item
        assert item["devices"]["cpu"] == "cpu"


def test_a_fifth_backend_appears_and_runs_with_no_edit_here(fifth_backend: str) -> None:
    assert fifth_backend in names()
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert f"fifth  Fifth {np.__version__} (mlp-fifth 0.3.0)" in result.output
    args = ["--layers", "784-16-10", "--samples", "300", "--batch-size", "100"]
    result = invoke("bench", "--json", "-f", fifth_backend, "-d", "cpu", *args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert {(r["framework"], r["measure"], r["status"]) for r in rows} == {
        ("fifth", "products", "ok"),
        ("fifth", "engine", "ok"),
        ("fifth", "tutorial", "ok"),
    }


# Each framework's own optimizers: the classes themselves, not subclasses.
BUILT_IN_OPTIMIZERS = {
    "torch": ("torch.optim", ("SGD", "Adam", "AdamW")),
    "tf": ("keras.optimizers", ("SGD", "Adam", "AdamW")),
}


@pytest.mark.parametrize("backend", list(BUILT_IN_OPTIMIZERS))
def test_every_shipped_experiment_trains_with_the_frameworks_built_in_optimizer(backend):
    """Every variant that leaves the conventions to the framework (all but the defaults
    study's, which pin them on purpose) trains with exactly the framework's own class."""
    module_name, classes = BUILT_IN_OPTIMIZERS[backend]
    built_ins = {getattr(import_module(module_name), name) for name in classes}
    engine_module = load(next(r for r in discover() if r.name == backend))
    specs = {}
    for name in shipped_names():
        for variant in load_experiment(name).variants:
            if all(value == FRAMEWORK for value in applicable(variant.spec).values()):
                specs[repr(variant.spec.training.optimizer), variant.spec.training.dtype] = (
                    variant.spec
                )
    assert len(specs) >= 2  # Adam and SGD with Nesterov momentum, at least
    rng = np.random.default_rng(0)
    for spec in specs.values():
        x = rng.normal(size=(8, spec.network.layers[0]))
        labels = rng.integers(0, spec.network.num_classes, size=8)
        engine = engine_module.make_engine(spec, x, labels, device="cpu")
        assert type(engine.optimizer) in built_ins, (spec.training.optimizer, engine.optimizer)
