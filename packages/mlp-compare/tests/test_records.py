"""The results model: its JSON Schema is generated from it, and documents of earlier schema
versions are read as the current one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import as_version, validate
from pydantic import ValidationError

from mlp_compare import records
from mlp_compare.experiment import ExperimentError, load_experiment

SCHEMA = Path(__file__).parents[1] / "src/mlp_compare/results.schema.json"


def test_the_shipped_schema_is_the_one_the_model_generates() -> None:
    assert SCHEMA.read_text() == records.schema_text(), (
        "results.schema.json is stale: python -m mlp_compare.records > "
        "packages/mlp-compare/src/mlp_compare/results.schema.json"
    )
    schema = json.loads(SCHEMA.read_text())
    run = schema["$defs"]["Run"]
    assert run["additionalProperties"] is False
    assert set(run["properties"]["status"]["enum"]) == {
        "ok", "skipped", "not_run", "interrupted", "diverged", "failed",
    }  # fmt: skip
    assert schema["properties"]["schema_version"]["const"] == 3


def test_a_version_2_document_is_upgraded(quick_results: dict) -> None:
    old = as_version(quick_results, 2)
    (run,) = [r for r in old["experiments"][0]["runs"] if r["framework"] == "torch"][:1]
    run.update(status="skipped", reason="training.optimizer.eps_placement: no built-in")
    run.update(metrics=None, history=[], test_predictions=None)
    document = validate(old)
    assert document.schema_version == 3
    assert document.display("tf") == "TensorFlow"
    upgraded = next(r for r in document.experiments[0].runs if r.framework == "torch")
    assert upgraded.status == "not_run"  # a run the framework had no built-in for
    skipped = [r for r in document.experiments[0].runs if r.backend_device is None]
    assert skipped and all(r.status == "skipped" for r in skipped)  # targets absent here
    assert document.sessions[0].executor.kind == "sequential"
    assert document.options.frameworks == list(quick_results["options"]["frameworks"])
    assert document.experiments[0].equivalence is not None
    assert document.experiments[0].equivalence.optimizer == "adam"


def test_a_version_1_document_has_no_seeds_or_predictions(quick_results: dict) -> None:
    document = validate(as_version(quick_results, 1))
    (experiment,) = document.experiments
    assert experiment.best_weights is None and experiment.seeds == []
    assert all(r.seed is None and r.test_predictions is None for r in experiment.runs)


def test_an_unknown_field_or_value_is_refused(quick_results: dict) -> None:
    document = json.loads(json.dumps(quick_results))
    document["experiments"][0]["runs"][0]["colour"] = "blue"
    with pytest.raises(ValidationError, match="colour"):
        validate(document)
    document = json.loads(json.dumps(quick_results))
    document["schema_version"] = 7
    with pytest.raises(ValidationError, match="schema_version"):
        validate(document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('base = "pytorch-defaults"', 'base = "nope"'), "study.base: no variant 'nope'"),
        (('kind = "defaults"', 'kind = "other"'), "study.kind: Input should be 'defaults'"),
        (
            ('{ torch = "1e-8", tf = "1e-7", jax = "1e-8" }', '{ torch = "1e-8" }'),
            "variants[keras-eps].default",
        ),
    ],
)
def test_a_study_table_that_does_not_fit_names_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    shipped = Path(__file__).parents[1] / "src/mlp_compare/experiments/defaults.toml"
    path = tmp_path / "study.toml"
    path.write_text(shipped.read_text().replace(*change))
    with pytest.raises(ExperimentError) as caught:
        load_experiment(str(path))
    assert message in str(caught.value)
