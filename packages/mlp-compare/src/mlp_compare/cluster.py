"""A study's tasks on Dask: a LocalCluster of N processes on this machine (`--workers N`) or
an existing cluster (`--scheduler ADDRESS`, docs/cluster.md). Needs `mlp-compare[dask]`.

Each LocalCluster worker runs one task at a time on its own cores: worker i is pinned to
cores [i·t, (i + 1)·t) of the cores this process may use, t the study's thread count, and
every framework in it gets t threads (the task sets them), so that concurrent runs do not
oversubscribe the CPU. On an existing cluster the workers' placement is the cluster's (a
batch system gives each job its cores); the tasks still set the thread count. Dask
reschedules the task of a worker that dies; after the scheduler's `allowed-failures`, the
task's outcome is the error (`KilledWorker`), recorded as a failed run.
"""

from __future__ import annotations

import logging
import os
import signal
from itertools import count
from typing import Any

import dask
from distributed import Client, Future, LocalCluster, WorkerPlugin, wait

from mlp_compare import cores, records, tasks
from mlp_compare.cores import pin
from mlp_compare.executors import Done, ExecutorError
from mlp_compare.plan import Task, TrainTask
from mlp_numpy import Layer

CONNECT_TIMEOUT = "10s"


def worker_environment() -> dict[str, Any]:
    """The environment Dask's nannies give the workers they start, without
    `MALLOC_TRIM_THRESHOLD_`: Dask sets it (to hand freed memory back to the system sooner),
    and any value turns off glibc's sliding mmap threshold, so that every array of 128 KiB
    or more, such as a 784 × 256 weight gradient at every step, is mapped and unmapped anew.
    With it, a study's SGD runs trained 2.2 × slower in a worker than in one process."""
    environment = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environment.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environment


class PinCores(WorkerPlugin):
    """Pins each LocalCluster worker, named 0 … N − 1, to its cores, again after a restart."""

    def __init__(self, cores: dict[str, list[int]]) -> None:
        self.cores = cores

    def setup(self, worker: Any) -> None:
        cores = self.cores.get(str(worker.name))
        if cores:
            pin(cores)


def layout(workers: int, threads: int) -> list[list[int]] | None:
    """Each worker's cores, `threads` each from the cores this process may use; None when
    `threads` is 0 (the frameworks' own defaults: the OS places the threads)."""
    if threads == 0:
        return None
    usable = cores.usable() or list(range(os.cpu_count() or 1))
    if workers * threads > len(usable):
        raise ExecutorError(
            f"--workers {workers} with --threads {threads} needs {workers * threads} cores, and "
            f"this process may use {len(usable)}: use at most --workers "
            f"{max(1, len(usable) // threads)}, or --threads 0 to leave placement to the system"
        )
    return [usable[i * threads : (i + 1) * threads] for i in range(workers)]


class DaskExecutor:
    """Submits each task to a Dask cluster and hands back outcomes as they end."""

    def __init__(
        self, client: Client, cluster: LocalCluster | None, described: records.Executor
    ) -> None:
        self.client = client
        self.cluster = cluster
        self.described = described
        self.futures: dict[Future, Task] = {}
        self.numbers = count()

    @classmethod
    def local(cls, workers: int, threads: int) -> DaskExecutor:
        """A LocalCluster of `workers` processes; Ctrl-C reaches the study, not the workers."""
        cores = layout(workers, threads)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the workers inherit it
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environment()}):
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
        finally:
            signal.signal(signal.SIGINT, previous)
        client = Client(cluster)
        if cores:
            client.register_plugin(
                PinCores({str(i): c for i, c in enumerate(cores)}), name="mlp-compare-cores"
            )
        described = records.Executor(kind="local", workers=workers, threads=threads, cores=cores)
        return cls(client, cluster, described)

    @classmethod
    def connect(cls, address: str, threads: int) -> DaskExecutor:
        """The cluster whose scheduler listens at `address` (tcp://host:port)."""
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"--scheduler {address}: no Dask scheduler answers there ({exc}). Start one "
                "with `dask scheduler` and workers with `dask worker ADDRESS` (docs/cluster.md)"
            ) from None
        workers = len(client.scheduler_info().get("workers", {}))
        described = records.Executor(
            kind="scheduler", workers=max(workers, 1), threads=threads, address=address
        )
        return cls(client, None, described)

    def describe(self) -> records.Executor:
        return self.described

    def submit(self, task: Task, layers: list[Layer] | None = None) -> None:
        name = task.key.name if isinstance(task, TrainTask) else task.name
        future = self.client.submit(
            tasks.execute, task, layers, key=f"mlp-compare-{next(self.numbers)}-{name}", pure=False
        )
        self.futures[future] = task

    def next_done(self, timeout: float) -> Done | None:
        """The next task to end within `timeout` seconds, or None."""
        if not self.futures:
            return None
        try:
            done, _ = wait(list(self.futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return None
        future = next(iter(done))
        task = self.futures.pop(future)
        if future.status == "finished":
            return Done(task, future.result())
        try:
            error = future.exception()
        except BaseException as exc:  # a cancelled future raises instead of returning it
            error = exc
        return Done(task, None, error)

    def pending(self) -> int:
        return len(self.futures)

    def cancel(self) -> None:
        if self.futures:
            self.client.cancel(list(self.futures))
        self.futures.clear()

    def close(self) -> None:
        self.cancel()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
