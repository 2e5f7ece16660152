"""What the user sees while a run is going: a progress bar per training run and a summary table.

`RichDisplay` draws both live on a terminal (rich); `QuietDisplay` shows nothing (`--quiet`).
The runner calls `start_run` when training starts (its callback is the backends' per-epoch
progress hook), `finish_run` when it ends or is skipped, and `message` for anything else.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

STATUS_STYLE = {
    "ok": "green",
    "skipped": "yellow",
    "interrupted": "red",
    "diverged": "red",
    "failed": "red",
}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


class QuietDisplay:
    def start_run(self, label: str, epochs: int) -> Callable[[dict[str, Any]], None]:
        return lambda record: None

    def finish_run(self, label: str, entry: dict[str, Any]) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def __enter__(self) -> QuietDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class RichDisplay:
    """A live summary table of finished runs above the progress bar of the current one."""

    def __init__(self, console: Console | None = None) -> None:
        # Piped output has no width of its own: rich's 80 columns would fold the table.
        self.console = console or Console(width=None if sys.stdout.isatty() else 150)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epochs {task.fields[info]}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.rows: list[tuple[str, dict[str, Any]]] = []
        self.task: Any = None
        self.live = Live(console=self.console, get_renderable=self._render, refresh_per_second=4)

    def __enter__(self) -> RichDisplay:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def _render(self) -> Group:
        return Group(self.table(), self.progress)

    def table(self) -> Table:
        table = Table(title="mlp-compare", expand=False, box=box.SIMPLE_HEAD)
        table.add_column("experiment/variant", no_wrap=True, min_width=12)
        table.add_column("on", no_wrap=True, min_width=9)
        table.add_column("status", no_wrap=True, min_width=7)
        for name in ("train", "test", "s/epoch"):
            table.add_column(name, justify="right", no_wrap=True, min_width=7)
        table.add_column("note", no_wrap=True, overflow="ellipsis", max_width=40)
        for label, entry in self.rows:
            metrics = entry["metrics"] or {}
            style = STATUS_STYLE[entry["status"]]
            seconds = metrics.get("seconds_per_epoch")
            table.add_row(
                label,
                f"{entry['framework']}/{entry['device']}",
                f"[{style}]{entry['status']}[/{style}]",
                percent(metrics.get("final_train_accuracy")),
                percent(metrics.get("final_test_accuracy")),
                "—" if seconds is None else f"{seconds:.3f}",
                entry["reason"] or "",
            )
        return table

    def start_run(self, label: str, epochs: int) -> Callable[[dict[str, Any]], None]:
        task = self.progress.add_task(label, total=epochs, info="")

        def on_epoch(record: dict[str, Any]) -> None:
            info = f"loss {record['loss']:.4f}" if record["loss"] is not None else "loss —"
            if record["test_accuracy"] is not None:
                info += f"  test {percent(record['test_accuracy'])}"
            self.progress.update(task, completed=record["epoch"], info=info)

        self.task = task
        return on_epoch

    def finish_run(self, label: str, entry: dict[str, Any]) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.rows.append((label, entry))
        self.live.refresh()

    def message(self, text: str) -> None:
        self.console.print(text)
