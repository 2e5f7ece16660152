"""What the user sees while a study runs: one progress bar for the whole study.

On a terminal, `ProgressDisplay` draws a live bar (rich): tasks done out of the total, the
estimated time left, and the failures so far. When stdout is not a terminal (CI, nohup, a
pipe), it prints one plain line per finished task instead. `QuietDisplay` shows nothing
(`--quiet`). The runner calls `start` once, `finished` as each task ends, and `message` for
anything else.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mlp_compare.records import Run


def outcome(run: Run | None, error: str | None) -> str:
    """One finished task in a few words: "ok, test 97.12%, 14.2 s" or why it did not."""
    if error is not None:
        return f"failed: {error}"
    if run is None:
        return "done"
    if run.finished and run.metrics is not None:
        m = run.metrics
        return f"ok, test {100 * m.final_test_accuracy:.2f}%, {m.seconds_wall:.1f} s"
    return f"{run.status.replace('_', ' ')}" + (f": {run.reason}" if run.reason else "")


def failed(run: Run | None, error: str | None) -> bool:
    return error is not None or (run is not None and run.status == "failed")


class QuietDisplay:
    def start(self, total: int, done: int) -> None:
        pass

    def finished(self, label: str, run: Run | None, error: str | None) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def __enter__(self) -> QuietDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class LineDisplay:
    """One plain line per finished task: "[12/48, 1 failed, 3:10 left] label: outcome"."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total = self.done = self.failures = 0
        self.started = time.monotonic()

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        self.started = time.monotonic()
        self.print(f"{total} task{'s' * (total != 1)} to run")

    def finished(self, label: str, run: Run | None, error: str | None) -> None:
        self.done += 1
        self.failures += failed(run, error)
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        failures = f", {self.failures} failed" if self.failures else ""
        self.print(
            f"[{self.done}/{self.total}{failures}, {clock(left)} left] {label}: "
            f"{outcome(run, error)}"
        )

    def message(self, text: str) -> None:
        self.print(text)

    def print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __enter__(self) -> LineDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class ProgressDisplay:
    """A live bar: done/total, ETA, failures so far, and the last task to finish."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.progress = Progress(
            TextColumn("[bold]study[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failures]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}", style="dim"),
            console=self.console,
        )
        self.task: TaskID | None = None
        self.failures = 0

    def start(self, total: int, done: int) -> None:
        self.task = self.progress.add_task(
            "study", total=total, completed=done, failures="", last=""
        )

    def finished(self, label: str, run: Run | None, error: str | None) -> None:
        self.failures += failed(run, error)
        if failed(run, error):
            self.console.print(f"[red]{label}: {outcome(run, error)}[/]")
        if self.task is not None:
            self.progress.update(
                self.task,
                advance=1,
                failures=f"[red]{self.failures} failed[/]" if self.failures else "",
                last=f"{label}: {outcome(run, error)}",
            )

    def message(self, text: str) -> None:
        self.console.print(text)

    def __enter__(self) -> ProgressDisplay:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return (
        f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
        if minutes >= 60
        else f"{minutes}:{seconds:02d}"
    )


def display_for(quiet: bool) -> QuietDisplay | LineDisplay | ProgressDisplay:
    """Nothing with --quiet; the live bar on a terminal; one line per task otherwise."""
    if quiet:
        return QuietDisplay()
    return ProgressDisplay() if sys.stdout.isatty() else LineDisplay()
