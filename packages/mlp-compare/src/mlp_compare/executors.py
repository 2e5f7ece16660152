"""Where a study's tasks run. The default runs them one after another in this process and
starts nothing; `--workers N` and `--scheduler ADDRESS` hand them to Dask
(`mlp_compare.cluster`, which needs the optional extra `mlp-compare[dask]`).

An executor takes tasks (`submit`) and hands back each one's outcome as it ends
(`next_done`), in whatever order they end: the runner records each outcome at once. A task
that raises gives its exception as the outcome; a training task never does (its failures are
records), but a Dask worker that dies under a task does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mlp_compare import cores, records, tasks
from mlp_compare.plan import Task
from mlp_numpy import Layer

INSTALL_DASK = (
    "pip install 'mlp-compare[dask]' (from a checkout: pip install 'packages/mlp-compare[dask]')"
)


class ExecutorError(RuntimeError):
    """An executor that cannot start; the message says what to do."""


@dataclass(frozen=True)
class Done:
    """A task that ended, and its outcome or the exception that ended it."""

    task: Task
    outcome: Any  # tasks.TrainOutcome, records.Equivalence or records.DefaultsWeights
    error: BaseException | None = None


class Executor(Protocol):
    def describe(self) -> records.Executor: ...
    def submit(self, task: Task, layers: list[Layer] | None = None) -> None: ...
    def next_done(self, timeout: float) -> Done | None: ...
    def pending(self) -> int: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...


class Sequential:
    """Each task in this process when the runner asks for the next outcome, in submission
    order; `should_stop` is checked after every epoch of a training run. The tasks may
    confine the process to fewer cores (their thread count); `close` gives it back the
    cores it had."""

    def __init__(self, threads: int, should_stop: Callable[[], bool]) -> None:
        self.threads = threads
        self.should_stop = should_stop
        self.queue: deque[tuple[Task, list[Layer] | None]] = deque()
        self.cores = cores.usable()

    def describe(self) -> records.Executor:
        return records.Executor(kind="sequential", workers=1, threads=self.threads)

    def submit(self, task: Task, layers: list[Layer] | None = None) -> None:
        self.queue.append((task, layers))

    def next_done(self, timeout: float) -> Done | None:
        if not self.queue:
            return None
        task, layers = self.queue.popleft()
        try:
            return Done(task, tasks.execute(task, layers, self.should_stop))
        except Exception as exc:
            return Done(task, None, exc)

    def pending(self) -> int:
        return len(self.queue)

    def cancel(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        self.queue.clear()
        if self.cores is not None:
            cores.pin(self.cores)
