"""Repeats with seeds: which seeds an experiment runs, and each metric's mean and spread.

Every configuration (variant × framework × device) of an experiment with seeds is trained
once per seed, the seed replacing `training.seed` (the initial weights, the batch order and
the frameworks' own generators all follow it). The seed spread is the noise floor that every
comparison is measured against. The spread is given two ways: the sample standard deviation
over the seeds (`std`, n − 1 in the denominator; 0 for a single seed) and the range
(`min`–`max`).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from mlp_compare.records import Run

SUMMARIZED = ("final_test_accuracy", "final_train_accuracy", "final_loss", "seconds_training")


class SeedsError(ValueError):
    """A seed list that cannot be used; the message names it."""


def parse_seeds(text: str | list[int] | tuple[int, ...], where: str = "--seeds") -> tuple[int, ...]:
    """Seeds from "0-4" (inclusive), "0,3,7", a mix ("0-2,9"), or a list of integers."""
    if isinstance(text, list | tuple):
        items: list[int] = []
        for value in text:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SeedsError(f"{where}: seeds are integers ≥ 0, got {value!r}")
            items.append(value)
    elif isinstance(text, str):
        items = []
        for part in (p.strip() for p in text.split(",")):
            low, dash, high = part.partition("-")
            try:
                first, last = int(low), int(high) if dash else int(low)
            except ValueError:
                raise SeedsError(f"{where}: {part!r} is not a seed or a range like 0-4") from None
            if first < 0 or last < first:
                raise SeedsError(f"{where}: {part!r} is not a range of seeds ≥ 0 (low-high)")
            items.extend(range(first, last + 1))
    else:
        raise SeedsError(f'{where}: a list of seeds or a range like "0-4", got {text!r}')
    if not items:
        raise SeedsError(f"{where}: no seeds given")
    if len(set(items)) != len(items):
        raise SeedsError(f"{where}: a seed is listed twice in {text!r}")
    return tuple(items)


@dataclass(frozen=True)
class Spread:
    """The mean, sample standard deviation, min, max and count of some values."""

    mean: float
    std: float
    min: float
    max: float
    n: int


def spread(values: list[float]) -> Spread:
    return Spread(
        statistics.fmean(values),
        statistics.stdev(values) if len(values) > 1 else 0.0,
        min(values),
        max(values),
        len(values),
    )


@dataclass(frozen=True)
class SeedSummary:
    """One configuration's finished runs over seeds: each metric of `SUMMARIZED`."""

    variant: str
    target: tuple[str, str, str | None]
    seeds: tuple[int | None, ...]
    metrics: dict[str, Spread]


def summarize(runs: list[Run]) -> list[SeedSummary]:
    """One entry per variant × target with finished runs, in run order."""
    groups: dict[tuple[str, tuple[str, str, str | None]], list[Run]] = {}
    for run in runs:
        if run.finished:
            groups.setdefault((run.variant, run.target), []).append(run)
    summary = []
    for (variant, target), members in groups.items():
        metrics = {}
        for name in SUMMARIZED:
            values = [getattr(m.metrics, name) for m in members]
            values = [v for v in values if v is not None and math.isfinite(v)]
            if values:
                metrics[name] = spread(values)
        summary.append(SeedSummary(variant, target, tuple(m.seed for m in members), metrics))
    return summary
