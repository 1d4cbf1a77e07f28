"""Progress reporting for long stages: a callback the stages call, shown as a rich bar on a TTY."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

# (stage label, done, total) — total is in the stage's own unit (seconds of audio, clips, cues).
ProgressFn = Callable[[str, float, float], None]


def silent(_label: str, _done: float, _total: float) -> None:
    """The default: report nothing."""


@contextmanager
def terminal_progress(enabled: bool) -> Iterator[ProgressFn]:
    """A ProgressFn drawing one bar per stage on stderr; a silent one when disabled (no TTY or --json)."""
    if not enabled:
        yield silent
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def report(label: str, done: float, total: float) -> None:
        if label not in tasks:
            tasks[label] = bars.add_task(label, total=max(total, 1e-9))
        bars.update(tasks[label], completed=min(done, total), total=max(total, 1e-9))

    with bars:
        yield report
