"""Which CPU cores this process's threads may run on (Linux's CPU affinity, what `taskset`
sets). A task with --threads N may confine the whole process to N cores (mlp-jax does: XLA
sizes its CPU pool by the cores it may use), so the executors set the cores explicitly."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def usable() -> list[int] | None:
    """The cores this process may run on now; None where the OS has no CPU affinity."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def pin(cores: list[int]) -> None:
    """Restrict every thread of this process, and the threads it starts later, to `cores`."""
    tasks_folder = Path("/proc/self/task")
    threads = [int(p.name) for p in tasks_folder.iterdir()] if tasks_folder.is_dir() else [0]
    for thread in threads:
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(thread, cores)
