"""Crafted results for the findings tests: runs, curves and experiments with chosen numbers."""

from __future__ import annotations

from typing import Any

from mlp_compare import findings
from mlp_compare.prose import Prose
from mlp_compare.records import (
    Curve,
    DataSizes,
    Environment,
    Epoch,
    Equivalence,
    Executor,
    Experiment,
    FrameworkInfo,
    Metrics,
    Options,
    Published,
    Results,
    Run,
    Session,
    UpdateGap,
    Variant,
)
from mlp_numpy.spec import ModelSpec, Network, Optimizer, Schedule, Training

SECONDS = (0.8, 0.7, 0.75)
DISPLAY = {"numpy": "NumPy", "torch": "PyTorch", "tf": "TensorFlow", "jax": "JAX"}
# Adam on the framework's conventions: Keras's ε̂ differs from the reference's √v̂ + ε.
SPEC: dict[str, Any] = ModelSpec(
    Network(layers=(784, 32, 10)),
    training=Training(epochs=3, optimizer=Optimizer("adam"), schedule=Schedule("constant", 1e-3)),
).to_dict()


def metrics(accuracy: float, seconds: tuple[float, ...]) -> Metrics:
    return Metrics(
        final_train_accuracy=accuracy,
        final_test_accuracy=accuracy,
        best_train_accuracy=accuracy,
        best_test_accuracy=accuracy,
        best_test_epoch=len(seconds),
        generalization_gap=0.0,
        final_loss=0.1,
        epochs=len(seconds),
        steps=10 * len(seconds),
        seconds_training=sum(seconds),
        seconds_wall=sum(seconds),
        cpu_seconds=sum(seconds),
        seconds_per_epoch=sum(seconds) / len(seconds),
        steps_per_second=10.0,
        parameters=100,
        per_class_accuracy=[accuracy] * 10,
        confusion_matrix=[[0] * 10 for _ in range(10)],
    )


def run(framework: str, accuracy: float | None = 0.9750, **fields: Any) -> Run:
    """A run of `framework` on the CPU; without an accuracy, a skipped one."""
    status = fields.pop("status", "ok" if accuracy is not None else "skipped")
    seconds = tuple(fields.pop("epoch_seconds", SECONDS))
    finished = status == "ok" and accuracy is not None
    return Run(
        experiment="quick",
        variant=fields.pop("variant", "base"),
        framework=framework,
        device=fields.pop("device", "cpu"),
        backend_device=fields.pop("backend_device", "cpu"),
        seed=fields.pop("seed", None),
        status=status,
        reason=fields.pop("reason", None),
        hint=None,
        started=None,
        metrics=metrics(accuracy, seconds) if finished and accuracy is not None else None,
        history=[
            Epoch(
                epoch=i + 1,
                lr=1e-3,
                loss=0.1,
                train_accuracy=accuracy,
                test_accuracy=accuracy,
                val_accuracy=None,
                seconds=s,
            )
            for i, s in enumerate(seconds if status in ("ok", "diverged") else ())
        ],
        **fields,
    )


def curve(
    framework: str, diffs: list[float | None], gaps: tuple[UpdateGap, ...] = (), **fields: Any
) -> Curve:
    return Curve(
        framework=framework,
        device="cpu",
        max_weight_diff=diffs,
        loss_diff=[0.0] * len(diffs),
        losses=[0.1] * len(diffs),
        largest_update_gap=list(gaps),
        **fields,
    )


def gap(
    layer: int,
    parameter: str,
    index: tuple[int, ...],
    update: float,
    reference: float,
    margin: float | None,
) -> UpdateGap:
    return UpdateGap.model_validate(
        {
            "layer": layer,
            "parameter": parameter,
            "index": list(index),
            "update": update,
            "reference_update": reference,
            "kink_margin": margin,
        }
    )


def experiment(
    runs: list[Run],
    curves: list[Curve] | None = None,
    specs: dict[str, dict[str, Any]] | None = None,
    **fields: Any,
) -> Experiment:
    """The runs as one experiment, with a float32 Adam lockstep check of 20 steps."""
    curves = curves or [curve("torch", [1e-7] * 20), curve("tf", [2e-7] * 20)]
    variants = list(dict.fromkeys(r.variant for r in runs))
    return Experiment(
        name="quick",
        title="Quick",
        description="",
        source="crafted",
        data={"train": "all"},
        data_sizes=DataSizes(train=60000, test=10000, validation=0),
        published=Published(source="", summary="", results=[]),
        spec=SPEC,
        seeds=sorted({r.seed for r in runs if r.seed is not None}),
        variants=[
            Variant(
                name=v,
                description="",
                set={},
                init_from=None,
                spec=(specs or {}).get(v, SPEC),
            )
            for v in variants
        ],
        runs=runs,
        equivalence=Equivalence(
            variant=variants[0],
            reference="numpy/cpu",
            dtype="float32",
            steps=len(curves[0].max_weight_diff),
            optimizer="adam",
            lr=1e-3,
            curves=curves,
        ),
        best_weights=None,
        **fields,
    )


def results(*experiments: Experiment, workers: int = 1) -> Results:
    frameworks = list(dict.fromkeys(r.framework for e in experiments for r in e.runs))
    executor = (
        Executor(kind="sequential", workers=1, threads=1)
        if workers == 1
        else Executor(kind="local", workers=workers, threads=1, cores=[[i] for i in range(workers)])
    )
    return Results(
        run_id="crafted",
        command="mlp-compare run",
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:01:00+00:00",
        status="complete",
        environment=Environment(
            python="3.11",
            platform="linux",
            cpu_model="cpu",
            cpu_count=2,
            threads={},
            gpu=None,
            packages={},
            frameworks={
                name: FrameworkInfo(
                    display=DISPLAY[name], available=True, devices=["cpu"], error=None
                )
                for name in frameworks
            },
        ),
        options=Options(frameworks=frameworks, devices=["cpu"], equivalence_steps=20, threads=1),
        sessions=[
            Session(
                command="mlp-compare run",
                started="2026-01-01T00:00:00+00:00",
                finished="2026-01-01T00:01:00+00:00",
                wall_seconds=60.0,
                tasks=sum(len(e.runs) for e in experiments),
                executor=executor,
            )
        ],
        experiments=list(experiments),
    )


KINDS: dict[str, tuple[type, ...]] = {
    "agreement": (findings.Agreement, findings.MergedAgreement),
    "disagreement": (findings.Disagreement,),
    "chance": (findings.Chance,),
    "excluded": (
        findings.NotCompared,
        findings.LeftOut,
        findings.NothingToCompare,
        findings.Unsupported,
    ),
    "equivalent": (findings.Equivalent,),
    "parted": (findings.Parted,),
    "noise": (findings.NoiseLevel,),
}


def texts(result: Experiment, kind: str | None = None) -> list[str]:
    """The sentences of the experiment's verdicts of one kind (all without a kind)."""
    prose = Prose(results(result))
    return [
        prose.verdict(v)
        for v in findings.experiment_verdicts(result)
        if kind is None or isinstance(v, KINDS[kind])
    ]


def summary(*experiments: Experiment, workers: int = 1) -> str:
    document = results(*experiments, workers=workers)
    prose, answer = Prose(document), findings.summary(document)
    anomalies = prose.anomalies(answer)
    return "\n".join(
        [*prose.summary(answer), *(["**Anomalies:**"] if anomalies else []), *anomalies]
    )
