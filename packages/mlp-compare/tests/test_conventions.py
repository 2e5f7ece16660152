"""A spec pinning a convention a framework has no built-in for: the backend raises
ConventionError and the run is recorded as not run, "<field>: <why>", alike for every
backend; a framework that follows other conventions than the reference gets the reference
under its conventions as an extra run of the plan."""

from __future__ import annotations

from typing import Any

from mlp_compare import frameworks as fw
from mlp_compare import tasks
from mlp_compare.data import prepare
from mlp_compare.experiment import DataSpec, load_experiment
from mlp_compare.plan import RunKey, TrainTask, planned_runs, targets
from mlp_numpy.conventions import BUILT_INS, ConventionError
from mlp_numpy.spec import ModelSpec, SpecError

DATA = DataSpec(train="first", train_size=200, test="first", test_size=100)
BASE: dict[str, Any] = {
    "network": {"layers": [784, 16, 10]},
    "training": {"batch_size": 50, "epochs": 1, "optimizer": {"name": "adam"}},
}
# field -> the spec that makes it matter, and every value it can pin.
PINS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "training.optimizer.eps_placement": ({}, ("sqrt_v_hat", "eps_hat")),
    "training.optimizer.velocity": (
        {"optimizer": {"name": "sgd", "momentum": 0.9}},
        ("gradient", "step"),
    ),
    "training.optimizer.weight_decay_form": (
        {"optimizer": {"name": "adam", "weight_decay": 0.01}},
        ("coupled", "decoupled"),
    ),
    "loss.form": ({}, ("logits", "clipped_probabilities")),
}


def pinned(field: str, value: str) -> ModelSpec:
    training, _ = PINS[field]
    spec: dict[str, Any] = {**BASE, "training": {**BASE["training"], **training}}
    if field == "loss.form":
        spec["loss"] = {"name": "cross_entropy", "form": value}
    else:
        optimizer = {**spec["training"]["optimizer"], field.rsplit(".", 1)[1]: value}
        spec["training"] = {**spec["training"], "optimizer": optimizer}
    return ModelSpec.from_dict(spec)


def test_a_convention_without_a_built_in_is_not_run_with_the_field_and_why() -> None:
    x, labels = prepare(DATA).train
    refused = []
    for framework in fw.all_frameworks():
        if framework.name not in BUILT_INS:
            continue
        for field, (_, values) in PINS.items():
            for value in values:
                if value == BUILT_INS[framework.name][field]:
                    continue
                spec = pinned(field, value)
                try:
                    framework.module.make_engine(spec, x, labels, device="cpu")
                except ConventionError as exc:
                    refused.append((framework.name, field, str(exc)))
                    key = RunKey("pins", f"{field}={value}", framework.name, "cpu", None)
                    task = TrainTask(key, spec, DATA, "cpu", 1, None, 0)
                    run = tasks.train(task).run
                    assert run.status == "not_run", (framework.name, field, run)
                    assert run.reason == str(exc)
                    assert run.reason.startswith(f"{field}: ") and len(run.reason) > len(field) + 4
                    assert run.metrics is None and run.test_predictions is None
                except SpecError as exc:  # the spec itself: not a convention
                    raise AssertionError(f"{framework.name}: {exc}") from None
    assert any(name == "torch" for name, _, _ in refused), refused  # torch.optim has no ε̂


def test_the_plan_adds_the_reference_under_each_other_set_of_conventions() -> None:
    """baseline: Adam and Nesterov SGD on the frameworks' conventions. Keras's Adam has ε̂ and
    its SGD keeps the velocity in steps, so the reference also runs under TensorFlow's
    conventions, once per variant and seed; PyTorch's are the reference's own."""
    experiment = load_experiment("baseline", epochs=1)
    plan = targets([fw.get("numpy"), fw.get("torch"), fw.get("tf")], ["cpu"])
    runs = planned_runs(experiment, plan)
    extra = [r for r in runs if r.key.conventions is not None]
    assert [(r.key.variant, r.key.framework, r.key.conventions) for r in extra] == [
        ("adam", "numpy", "tf"),
        ("nesterov", "numpy", "tf"),
    ]
    adam = extra[0].spec.training.optimizer
    assert adam.eps_placement == BUILT_INS["tf"]["training.optimizer.eps_placement"]
    nesterov = extra[1].spec.training.optimizer
    assert nesterov.velocity == BUILT_INS["tf"]["training.optimizer.velocity"]
    order = [(r.key.variant, r.key.framework, r.key.conventions) for r in runs]
    assert order.index(("adam", "numpy", "tf")) < order.index(("nesterov", "numpy", None))
    # Only NumPy and PyTorch: no framework with other conventions, no extra run.
    plan = targets([fw.get("numpy"), fw.get("torch")], ["cpu"])
    assert all(r.key.conventions is None for r in planned_runs(experiment, plan))
