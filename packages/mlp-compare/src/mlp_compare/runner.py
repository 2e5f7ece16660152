"""Running a study: every task of its plan through an executor, each result kept at once.

The runner owns the run folder. The moment a task ends, its record is written atomically to
`tasks/<experiment>/<task>.json` and `results.json` is rewritten from the records (also
atomically), so what finished is kept however the process ends, and `run --resume DIR` runs
only the tasks without a record, or whose record says they failed or were interrupted. A
stop request (Ctrl-C) stops the study: in one process at the next epoch boundary (the run is
recorded as interrupted with the epochs it finished); on Dask at once (the running tasks are
cancelled and have no record).

Tasks may end in any order; results.json lists the runs in the plan's order, and the most
accurate run (ties: the first in that order) is the one whose weights are kept, so that
the results do not depend on the executor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from mlp_compare import data as data_module
from mlp_compare import records
from mlp_compare.executors import Done, Executor
from mlp_compare.experiment import Experiment, from_record
from mlp_compare.plan import (
    DefaultsTask,
    EquivalenceTask,
    RunKey,
    Target,
    Task,
    TrainTask,
    analysis_tasks,
    file_name,
    planned_runs,
    seeds_of,
    train_tasks,
)
from mlp_compare.results import now, read_results, write_bytes, write_record
from mlp_compare.tasks import TrainOutcome
from mlp_numpy.weights import parse_weights

POLL_SECONDS = 0.5  # how often a waiting runner checks for a stop request
REDO = ("failed", "interrupted", "skipped")  # records that `--resume` runs again


class StopFlag:
    """Set by the SIGINT handler; checked between epochs and between tasks."""

    def __init__(self) -> None:
        self.requested = False


class Display(Protocol):
    def start(self, total: int, done: int) -> None: ...
    def finished(self, label: str, run: records.Run | None, error: str | None) -> None: ...
    def message(self, text: str) -> None: ...


@dataclass
class Best:
    """The experiment's most accurate finished run so far, and its place in the plan."""

    accuracy: float
    order: int


class Runner:
    """Runs the tasks of `experiments` on `plan` that `folder` has no record of."""

    def __init__(
        self,
        folder: Path,
        results: records.Results,
        experiments: list[Experiment],
        plan: list[Target],
        executor: Executor,
        display: Display,
        stop: StopFlag,
    ) -> None:
        self.folder = folder
        self.results = results
        self.experiments = experiments
        self.plan = plan
        self.executor = executor
        self.display = display
        self.stop = stop
        self.runs: dict[RunKey, records.Run] = {}
        self.waiting: dict[RunKey, list[TrainTask]] = {}  # source run -> runs that start from it
        self.best: dict[str, Best] = {}
        self.planned: set[RunKey] = set()  # the training runs this session runs
        self.ran = 0
        self.failures = 0

    # ---- the run folder ------------------------------------------------------------------

    def record_path(self, experiment: str, name: str) -> Path:
        return self.folder / "tasks" / file_name(experiment) / f"{name}.json"

    def source_path(self, key: RunKey) -> Path:
        folder = self.folder / "weights" / "sources" / file_name(key.experiment)
        return folder / f"{key.name}.safetensors"

    def record(self, name: str) -> records.Experiment:
        return next(e for e in self.results.experiments if e.name == name)

    def save(self) -> None:
        for experiment in self.experiments:
            record = self.record(experiment.name)
            record.runs = [self.runs[k] for k in self.keys(experiment) if k in self.runs]
        write_record(self.folder / "results.json", self.results)

    def keys(self, experiment: Experiment) -> list[RunKey]:
        """Every run of the experiment, in the results table's order."""
        return [run.key for run in planned_runs(experiment, self.plan)]

    def load(self, experiment: Experiment) -> None:
        """What the run folder already holds for `experiment`: its record (created now for
        a new study), and the records of its tasks. Those are the files in
        `tasks/<experiment>/`, or, in a folder written before they existed, the runs and
        analyses in results.json."""
        if not any(e.name == experiment.name for e in self.results.experiments):
            sizes = records.DataSizes(**data_module.prepare(experiment.data).sizes())
            self.results.experiments.append(experiment.record(sizes))
        record = self.record(experiment.name)
        folder = self.folder / "tasks" / file_name(experiment.name)
        if not folder.is_dir():
            for run in record.runs:
                self.runs[run_key(run)] = run
            return
        record.equivalence = record.defaults_weights = None
        for path in sorted(folder.glob("*.json")):
            text = path.read_bytes()
            try:
                if path.stem == "equivalence":
                    record.equivalence = records.Equivalence.model_validate_json(text)
                elif path.stem == "defaults-weights":
                    record.defaults_weights = records.DefaultsWeights.model_validate_json(text)
                else:
                    run = records.Run.model_validate_json(text)
                    self.runs[run_key(run)] = run
            except ValidationError:  # written by another version: the task runs again
                continue

    # ---- running -------------------------------------------------------------------------

    def run(self) -> str:
        """Run every missing task; the study's status: complete or interrupted."""
        todo: list[Task] = []
        for experiment in self.experiments:
            self.load(experiment)
            todo += self.missing(experiment)
        self.planned = {t.key for t in todo if isinstance(t, TrainTask)}
        self.remember_best()
        self.save()
        self.display.start(len(todo), 0)
        for task in todo:
            self.submit(task)
        try:
            while self.executor.pending():
                if self.stop.requested:
                    return "interrupted"
                done = self.executor.next_done(POLL_SECONDS)
                if done is not None:
                    self.keep(done)
            if self.stop.requested:
                return "interrupted"
        except KeyboardInterrupt:
            return "interrupted"
        finally:
            self.executor.cancel()
            self.save()
        return "complete"

    def missing(self, experiment: Experiment) -> list[Task]:
        """The experiment's tasks without a final record, in plan order; skipped targets
        are recorded at once (they run nothing)."""
        record = self.record(experiment.name)
        for run in planned_runs(experiment, self.plan):
            if run.target.backend_device is None:
                self.runs[run.key] = skipped(run.key, run.target)
        threads = self.results.options.threads
        todo: list[Task] = [
            t
            for t in train_tasks(experiment, self.plan, threads)
            if t.key not in self.runs or self.runs[t.key].status in REDO
        ]
        for task in analysis_tasks(
            experiment, self.plan, self.results.options.equivalence_steps, threads
        ):
            if isinstance(task, EquivalenceTask) and record.equivalence is None:
                todo.append(task)
            if isinstance(task, DefaultsTask) and record.defaults_weights is None:
                todo.append(task)
        return todo

    def submit(self, task: Task) -> None:
        """Submit `task`, or hold it until the run it starts from has ended."""
        if not isinstance(task, TrainTask) or task.init_from is None:
            self.executor.submit(task)
            return
        source = self.runs.get(task.init_from)
        if task.init_from in self.planned and (source is None or source.status in REDO):
            self.waiting.setdefault(task.init_from, []).append(task)
        elif source is not None and source.finished and self.source_path(task.init_from).is_file():
            weights = parse_weights(self.source_path(task.init_from).read_bytes())
            self.executor.submit(task, weights.layers)
        else:
            self.runs[task.key] = unfinished_source(task)
            self.display.finished(task.key.label(), self.runs[task.key], None)

    def keep(self, done: Done) -> None:
        """Record one ended task at once, then start what waited for it."""
        task = done.task
        self.ran += 1
        if isinstance(task, TrainTask):
            if done.error is not None or not isinstance(done.outcome, TrainOutcome):
                run = lost(task, done.error)
                weights = None
            else:
                run, weights = done.outcome.run, done.outcome.weights
            self.runs[task.key] = run
            self.planned.discard(task.key)
            write_record(self.record_path(task.key.experiment, task.key.name), run)
            if weights is not None:
                self.keep_weights(task, run, weights)
            self.failures += run.status == "failed"
            self.display.finished(task.key.label(), run, None)
            for waiting in self.waiting.pop(task.key, []):
                self.submit(waiting)
        elif done.error is not None:
            self.failures += 1
            self.display.finished(task.label(), None, f"{type(done.error).__name__}: {done.error}")
        else:
            name = task.experiment if isinstance(task, EquivalenceTask) else task.experiment.name
            record = self.record(name)
            if isinstance(done.outcome, records.Equivalence):
                record.equivalence = done.outcome
            elif isinstance(done.outcome, records.DefaultsWeights):
                record.defaults_weights = done.outcome
            write_record(self.record_path(record.name, task.name), done.outcome)
            self.display.finished(task.label(), None, None)
        self.save()

    def remember_best(self) -> None:
        """The best run of each experiment among those recorded before this session."""
        for experiment in self.experiments:
            for order, key in enumerate(self.keys(experiment)):
                run = self.runs.get(key)
                if run is not None and run.finished and run.test_accuracy is not None:
                    self.better(experiment.name, run.test_accuracy, order)

    def better(self, experiment: str, accuracy: float, order: int) -> bool:
        best = self.best.get(experiment)
        if best is None or (accuracy, -order) > (best.accuracy, -best.order):
            self.best[experiment] = Best(accuracy, order)
            return True
        return False

    def keep_weights(self, task: TrainTask, run: records.Run, weights: bytes) -> None:
        """The weights of an experiment's most accurate run (the report draws its first
        layer), and those of runs that other runs start from."""
        if task.key in self.sources():
            write_bytes(self.source_path(task.key), weights)
        experiment = self.experiment(task.key.experiment)
        order = self.keys(experiment).index(task.key)
        if run.test_accuracy is not None and self.better(experiment.name, run.test_accuracy, order):
            relative = f"weights/{file_name(experiment.name)}.safetensors"
            write_bytes(self.folder / relative, weights)
            self.record(experiment.name).best_weights = records.BestWeights(
                path=relative, framework=run.framework, device=run.device, variant=run.variant
            )

    def sources(self) -> set[RunKey]:
        return {
            RunKey(e.name, v.init_from, "numpy", "cpu", seed)
            for e in self.experiments
            for v in e.variants
            if v.init_from is not None
            for seed in seeds_of(e)
        }

    def experiment(self, name: str) -> Experiment:
        return next(e for e in self.experiments if e.name == name)


def run_key(run: records.Run) -> RunKey:
    return RunKey(run.experiment, run.variant, run.framework, run.device, run.seed, run.conventions)


def skipped(key: RunKey, target: Target) -> records.Run:
    """The record of a run whose target cannot run here."""
    return records.Run(
        experiment=key.experiment,
        variant=key.variant,
        framework=key.framework,
        device=key.device,
        backend_device=None,
        seed=key.seed,
        status="skipped",
        reason=target.reason,
        hint=target.hint,
        started=None,
        metrics=None,
        history=[],
    )


def unfinished_source(task: TrainTask) -> records.Run:
    """The record of a run whose starting weights come from a run that did not finish."""
    assert task.init_from is not None
    return records.Run(
        experiment=task.key.experiment,
        variant=task.key.variant,
        framework=task.key.framework,
        device=task.key.device,
        backend_device=task.backend_device,
        seed=task.key.seed,
        conventions=task.key.conventions,
        status="skipped",
        reason=(
            f"starts from the weights of the NumPy run of {task.init_from.variant!r}, which did "
            "not finish in this run"
        ),
        hint=None,
        started=None,
        metrics=None,
        history=[],
    )


def lost(task: TrainTask, error: BaseException | None) -> records.Run:
    """The record of a run whose task ended without one: its worker died (Dask's
    KilledWorker after its allowed retries) or the task could not be sent."""
    reason = f"{type(error).__name__}: {error}" if error else "the task returned no record"
    return records.Run(
        experiment=task.key.experiment,
        variant=task.key.variant,
        framework=task.key.framework,
        device=task.key.device,
        backend_device=task.backend_device,
        seed=task.key.seed,
        conventions=task.key.conventions,
        status="failed",
        reason=reason,
        hint=None,
        started=None,
        metrics=None,
        history=[],
    )


def new_results(
    run_id: str, command: str, environment: records.Environment, options: records.Options
) -> records.Results:
    """An empty results document for a study that is about to start."""
    return records.Results(
        run_id=run_id,
        command=command,
        started=now(),
        finished=None,
        status="running",
        environment=environment,
        options=options,
        sessions=[],
        experiments=[],
    )


def run_study(
    folder: Path,
    results: records.Results,
    experiments: list[Experiment],
    plan: list[Target],
    executor: Executor,
    display: Display,
    stop: StopFlag,
    command: str,
) -> str:
    """One session of the study: run what is missing, record the session; its status."""
    session = records.Session(command=command, started=now(), executor=executor.describe())
    results.sessions.append(session)
    results.status = "running"
    results.finished = None
    runner = Runner(folder, results, experiments, plan, executor, display, stop)
    start = time.perf_counter()
    status = "failed"
    try:
        status = runner.run()
    finally:
        session.finished = now()
        session.wall_seconds = time.perf_counter() - start
        session.tasks = runner.ran
        results.status = status  # type: ignore[assignment]
        results.finished = session.finished
        runner.save()
    return status


def resume(folder: Path) -> tuple[records.Results, list[Experiment]]:
    """A run folder's results and experiments, to run what it lacks."""
    results = read_results(folder)
    return results, [from_record(e) for e in results.experiments]
