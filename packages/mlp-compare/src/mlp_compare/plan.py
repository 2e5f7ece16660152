"""A study's plan: the targets (framework × device) and the tasks, one per result record.

Every variant × target × seed is a training task (`TrainTask`); each experiment may add a
lockstep equivalence (`EquivalenceTask`) and, for a defaults study, the measurement of each
default on the weights (`DefaultsTask`). A task is plain data: it runs the same in this
process or on any Dask worker (`mlp_compare.tasks`), and its `key` names its record in the
run folder, so that `run --resume` runs only the tasks without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from mlp_compare.experiment import DataSpec, Experiment, Variant
from mlp_compare.frameworks import Framework
from mlp_compare.records import REFERENCE
from mlp_numpy import conventions
from mlp_numpy.spec import ModelSpec


@dataclass(frozen=True)
class Target:
    """One framework on one device, or the reason it cannot run there."""

    framework: Framework
    device: str  # "cpu" or "gpu"
    backend_device: str | None
    reason: str | None

    @property
    def device_name(self) -> str:
        """The backend's name for the device; only a target without a skip reason has one."""
        if self.backend_device is None:
            raise ValueError(f"{self.framework.name} cannot run on {self.device}: {self.reason}")
        return self.backend_device

    @property
    def hint(self) -> str | None:
        return None if self.framework.available else self.framework.install_hint


def targets(frameworks: list[Framework], devices: list[str]) -> list[Target]:
    """Every framework × device, resolved to the backend's device name or a skip reason."""
    result = []
    for framework in frameworks:
        for device in devices:
            backend_device, reason = framework.resolve_device(device)
            result.append(Target(framework, device, backend_device, reason))
    return result


@dataclass(frozen=True)
class RunKey:
    """What identifies a training run in a study."""

    experiment: str
    variant: str
    framework: str
    device: str
    seed: int | None
    conventions: str | None = None  # a reference run under this framework's conventions

    @property
    def name(self) -> str:
        """The run's record in the run folder: `tasks/<experiment>/<this>.json`."""
        parts = [self.variant, self.framework, self.device]
        parts += [f"seed{self.seed}"] if self.seed is not None else []
        parts += [f"as-{self.conventions}"] if self.conventions else []
        return file_name(".".join(parts))

    def label(self) -> str:
        """ "defaults/keras-init torch/cpu seed 3": how progress lines name the run."""
        seed = f" seed {self.seed}" if self.seed is not None else ""
        under = f" ({self.conventions}'s conventions)" if self.conventions else ""
        return f"{self.experiment}/{self.variant} {self.framework}/{self.device}{seed}{under}"


@dataclass(frozen=True)
class TrainTask:
    """Train one run. `spec` is the variant's, with its seed (and conventions) applied."""

    key: RunKey
    spec: ModelSpec
    data: DataSpec
    backend_device: str
    threads: int
    init_from: RunKey | None  # the run whose final weights this one starts from
    order: int  # its place in the plan: ties between equally good runs go to the first


@dataclass(frozen=True)
class EquivalenceTask:
    """The lockstep equivalence of one variant over `steps` steps on every runnable target."""

    experiment: str
    variant: Variant
    data: DataSpec
    frameworks: tuple[str, ...]
    devices: tuple[str, ...]  # the backend device of each framework
    steps: int
    threads: int

    @property
    def name(self) -> str:
        return "equivalence"

    def label(self) -> str:
        return f"{self.experiment}: equivalence over {self.steps} steps"


@dataclass(frozen=True)
class DefaultsTask:
    """The defaults study's effect of each default on the weights (float64 reference)."""

    experiment: Experiment
    threads: int

    @property
    def name(self) -> str:
        return "defaults-weights"

    def label(self) -> str:
        return f"{self.experiment.name}: the defaults' effect on the weights"


Task = TrainTask | EquivalenceTask | DefaultsTask


def with_seed(variant: Variant, seed: int | None) -> ModelSpec:
    """The variant's spec with `training.seed` replaced (unchanged without a seed)."""
    spec = variant.spec
    if seed is None:
        return spec
    return replace(spec, training=replace(spec.training, seed=seed))


def seeds_of(experiment: Experiment) -> list[int | None]:
    """The seeds every configuration runs with; [None]: the spec's own seed, once."""
    return list(experiment.seeds) or [None]


@dataclass(frozen=True)
class PlannedRun:
    """A run of the plan: its key, where it runs, its spec and the run it starts from."""

    key: RunKey
    target: Target
    spec: ModelSpec
    init_from: RunKey | None


def other_conventions(spec: ModelSpec, frameworks: list[str]) -> dict[str, ModelSpec]:
    """framework -> the reference's spec under its conventions, for each distinct set of
    conventions among `frameworks` that differs from the reference's own in what `spec`
    computes (`mlp_numpy.conventions.differences`); the first framework names each set."""
    found: dict[str, ModelSpec] = {}
    seen: set[tuple[tuple[str, str], ...]] = set()
    for name in frameworks:
        if name == REFERENCE or name not in conventions.BUILT_INS:
            continue
        if not conventions.differences(spec, REFERENCE, name):
            continue
        resolved = conventions.resolve(spec, name)
        forms = tuple(sorted(conventions.applicable(resolved).items()))
        if forms not in seen:
            seen.add(forms)
            found[name] = resolved
    return found


def planned_runs(experiment: Experiment, plan: list[Target]) -> list[PlannedRun]:
    """Every variant × target × seed, in the order of the results table; after a variant's
    targets, the reference under each other set of conventions its frameworks follow (when
    the reference runs on the CPU)."""
    groups: dict[tuple[str, str, str, str | None], list[PlannedRun]] = {}
    runnable = [t.framework.name for t in plan if t.backend_device is not None]
    reference = next((t for t in plan if (t.framework.name, t.device) == (REFERENCE, "cpu")), None)
    for variant in experiment.variants:
        for seed in seeds_of(experiment):
            source = None
            if variant.init_from is not None:
                source = RunKey(experiment.name, variant.init_from, REFERENCE, "cpu", seed)
            spec = with_seed(variant, seed)
            for target in plan:
                key = RunKey(
                    experiment.name, variant.name, target.framework.name, target.device, seed
                )
                groups.setdefault((variant.name, key.framework, key.device, None), []).append(
                    PlannedRun(key, target, spec, source)
                )
            if reference is None or reference.backend_device is None:
                continue
            for name, resolved in other_conventions(spec, runnable).items():
                key = RunKey(experiment.name, variant.name, REFERENCE, "cpu", seed, name)
                groups.setdefault((variant.name, REFERENCE, "cpu", name), []).append(
                    PlannedRun(key, reference, resolved, source)
                )
    return [run for group in groups.values() for run in group]  # each target's seeds together


def train_tasks(experiment: Experiment, plan: list[Target], threads: int) -> list[TrainTask]:
    """The planned runs whose target can run here, in plan order."""
    return [
        TrainTask(
            run.key,
            run.spec,
            experiment.data,
            run.target.backend_device,
            threads,
            run.init_from,
            order,
        )
        for order, run in enumerate(planned_runs(experiment, plan))
        if run.target.backend_device is not None
    ]


def analysis_tasks(
    experiment: Experiment, plan: list[Target], equivalence_steps: int, threads: int
) -> list[EquivalenceTask | DefaultsTask]:
    """The experiment's lockstep equivalence (two runnable targets or more) and the defaults
    study's weight measurement."""
    tasks: list[EquivalenceTask | DefaultsTask] = []
    runnable = [t for t in plan if t.backend_device is not None]
    if equivalence_steps > 0 and len(runnable) > 1:
        variant = next(v for v in experiment.variants if v.init_from is None)
        tasks.append(
            EquivalenceTask(
                experiment.name,
                variant,
                experiment.data,
                tuple(t.framework.name for t in runnable),
                tuple(t.backend_device or "cpu" for t in runnable),
                equivalence_steps,
                threads,
            )
        )
    if experiment.study is not None:
        tasks.append(DefaultsTask(experiment, threads))
    return tasks


def file_name(text: str) -> str:
    """`text` with every character a file name should not hold replaced by "_"."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)
