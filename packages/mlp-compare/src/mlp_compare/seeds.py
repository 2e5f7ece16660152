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
from typing import Any

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


def spread(values: list[float]) -> dict[str, Any]:
    """The mean, sample standard deviation, min, max and count of `values`."""
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per variant × framework × device with finished runs: its seeds, and each
    metric of `SUMMARIZED` as mean, std, min, max over them."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for run in runs:
        if run["status"] == "ok" and run["metrics"] is not None:
            key = (run["variant"], run["framework"], run["device"])
            groups.setdefault(key, []).append(run)
    summary = []
    for (variant, framework, device), members in groups.items():
        metrics = {}
        for name in SUMMARIZED:
            values = [m["metrics"][name] for m in members if m["metrics"].get(name) is not None]
            values = [v for v in values if math.isfinite(v)]
            if values:
                metrics[name] = spread(values)
        summary.append(
            {
                "variant": variant,
                "framework": framework,
                "device": device,
                "seeds": [m["seed"] for m in members],
                "metrics": metrics,
            }
        )
    return summary


def text(entry: dict[str, Any], scale: float = 100.0, digits: int = 2) -> str:
    """'mean ± std (min–max)' of a summary metric, times `scale` (points for accuracies)."""
    m, s = entry["mean"] * scale, entry["std"] * scale
    low, high = entry["min"] * scale, entry["max"] * scale
    return f"{m:.{digits}f} ± {s:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"
