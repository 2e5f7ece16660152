"""Timing on a shared machine, for every backend's `benchmarks/epoch.py` and `mlp-compare
bench`: interleaved rounds, two clocks, the best round and the spread of the rounds.

A busy machine slows whatever runs while it is busy. So the candidates are timed in
rounds, each round running every candidate once in turn: a burst of load then slows
candidates of the same round alike, and a ratio of two candidates' best rounds stays
meaningful. Each call is timed by two clocks: the wall clock, and the process's CPU time
(every thread of the process counted), which excludes the time spent waiting for a core
that another program holds. The spread of a candidate, its slowest round over its
fastest, says how steady the rounds were.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

K = TypeVar("K", bound=Hashable)  # what names the runs


@dataclass(frozen=True)
class Timing:
    """Seconds of each round of one candidate, by the wall clock and by the process's
    CPU time."""

    wall: tuple[float, ...]
    cpu: tuple[float, ...]

    @property
    def best_wall(self) -> float:
        return min(self.wall)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)

    @property
    def wall_spread(self) -> float:
        """max / min of the rounds' wall times."""
        return max(self.wall) / min(self.wall)

    @property
    def cpu_spread(self) -> float:
        """max / min of the rounds' CPU times."""
        return max(self.cpu) / min(self.cpu)


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call of `run`, which must return only once its
    work is done (a backend on a GPU waits for the device)."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(
    runs: dict[K, Callable[[], object]], repeats: int, *, warm_up: bool = True
) -> dict[K, Timing]:
    """Each run's `Timing` over `repeats` rounds, every round calling each run once in
    turn, after one untimed call of each (`warm_up`: caches, lazy compilation)."""
    if repeats < 1:
        raise ValueError(f"repeats: must be ≥ 1, got {repeats}")
    if warm_up:
        for run in runs.values():
            run()
    rounds: dict[K, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            rounds[name].append(timed(run))
    return {
        name: Timing(tuple(w for w, _ in seconds), tuple(c for _, c in seconds))
        for name, seconds in rounds.items()
    }


def cpu_model() -> str:
    """The processor's model name (/proc/cpuinfo on Linux), or what the platform says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    import platform

    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> str:
    """The system's 1-, 5- and 15-minute load averages ("n/a" where there are none)."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def machine() -> str:
    """One line naming the machine and how busy it is: the CPU model, the number of CPUs
    and the load average (a quiet machine reads below 1)."""
    return f"{cpu_model()}, {os.cpu_count()} CPUs, load average {load_average()}"


def verdict(value: float, goal: float, *, at_most: bool = True) -> str:
    """ "goal ≤ 2: met" or "goal ≥ 1.5: missed", for a figure against its goal."""
    met = value <= goal if at_most else value >= goal
    return f"goal {'≤' if at_most else '≥'} {goal:g}: {'met' if met else 'missed'}"


def timing_row(label: str, timing: Timing, scale: float = 1.0, unit: str = "s") -> str:
    """One candidate as a line: best wall and best CPU time (times `scale`, in `unit`),
    and the spread of its rounds by each clock."""
    return (
        f"  {label:<40} {timing.best_wall * scale:9.3f} {unit:<6} "
        f"{timing.best_cpu * scale:9.3f} {unit:<6} "
        f"{timing.wall_spread:5.2f} / {timing.cpu_spread:4.2f}"
    )


def target_row(label: str, wall: float, cpu: float, goal: float, *, at_most: bool = True) -> str:
    """One target as a line: the figure by the wall clock, by CPU time in brackets, and
    the verdict of each against the goal."""
    clocks = f"{wall:8.2f} ({cpu:.2f})"
    wall_verdict = verdict(wall, goal, at_most=at_most)
    cpu_met = (cpu <= goal) if at_most else (cpu >= goal)
    return f"  {label:<40} {clocks:<18} {wall_verdict} (CPU time: {'met' if cpu_met else 'missed'})"


def ratio_row(
    label: str, numerator: Timing, denominator: Timing, goal: float, *, at_most: bool = True
) -> str:
    """A ratio of two candidates' best rounds, by each clock, against its goal."""
    wall = numerator.best_wall / denominator.best_wall
    cpu = numerator.best_cpu / denominator.best_cpu
    return target_row(label, wall, cpu, goal, at_most=at_most)


def per_step_row(label: str, timing: Timing, steps: int, goal_us: float) -> str:
    """A candidate's best round divided into `steps`, in µs by each clock, against its goal."""
    return target_row(label, timing.best_wall / steps * 1e6, timing.best_cpu / steps * 1e6, goal_us)


def spread_row(timings: dict[str, Timing], goal: float = 1.15) -> str:
    """The largest spread among `timings` (a backend's own epochs: its engine's and its
    products'), by each clock, against its goal."""
    wall = max(t.wall_spread for t in timings.values())
    cpu = max(t.cpu_spread for t in timings.values())
    return target_row("largest spread, engine epochs (max/min)", wall, cpu, goal)


TABLE_HEADER = f"  {'':<40} {'best wall':>16} {'best CPU':>16} {'spread wall / CPU':>17}"
