"""Trainer callback: metrics JSONL, per-step events, and progress on stderr: a rich bar on a terminal,
or plain periodic lines (step, loss, ETA) when stderr is a log file or a pipe."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Literal

from transformers import TrainerCallback

from twin.train.rundir import RunDir

Display = Literal["bar", "lines", "none"]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def progress_line(record: dict[str, Any]) -> str:
    """'train: step 5/40 · loss 2.3100 · lr 1.2e-04 · eta 1m12s' (or the eval loss)."""
    head = f"train: step {record['step']}/{record['max_steps']}"
    if record["event"] == "eval":
        return f"{head} · eval loss {record.get('eval_loss', float('nan')):.4f}"
    parts = [head, f"loss {record['loss']:.4f}"]
    if "learning_rate" in record:
        parts.append(f"lr {record['learning_rate']:.1e}")
    parts.append(f"eta {_duration(record.get('eta_s'))}")
    return " · ".join(parts)


class RunCallback(TrainerCallback):
    """Records every log/eval into the run's metrics.jsonl and reports progress with loss and ETA."""

    def __init__(
        self,
        run: RunDir,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        progress: bool | str = False,
        every_s: float = 10.0,
    ) -> None:
        self.run = run
        self.on_event = on_event
        self.display: Display = "bar" if progress in (True, "bar") else "lines" if progress == "lines" else "none"
        self.show = self.display == "bar"
        self.every_s = every_s
        self._last_line = float("-inf")
        self._bar: Any = None
        self._task: Any = None
        self._t0 = 0.0
        self._step0 = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._t0, self._step0 = time.perf_counter(), state.global_step
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("training"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("train", total=state.max_steps, completed=state.global_step, loss="-")

    def _eta(self, state: Any) -> float | None:
        done = state.global_step - self._step0
        if done <= 0:
            return None
        per_step = (time.perf_counter() - self._t0) / done
        return round(per_step * (state.max_steps - state.global_step), 1)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
        if not getattr(state, "is_world_process_zero", True):
            return  # under accelerate/DDP only the main process writes the run's metrics
        logs = dict(logs or {})
        kind = "eval" if any(k.startswith("eval_") for k in logs) else "train"
        if kind == "train" and "loss" not in logs:
            kind = "summary"
        record = {
            "event": kind,
            "step": state.global_step,
            "max_steps": state.max_steps,
            "epoch": round(state.epoch or 0.0, 4),
            "eta_s": self._eta(state),
            **logs,
        }
        self.run.append_metric(record)
        if self.on_event:
            self.on_event(record)
        if self.display == "lines" and kind in ("train", "eval"):
            self._line(record, force=kind == "eval" or state.global_step in (1, state.max_steps))
        if self._bar is not None and "loss" in logs:
            self._bar.update(self._task, completed=state.global_step, loss=f"{logs['loss']:.4f}")

    def _line(self, record: dict[str, Any], force: bool) -> None:
        now = time.monotonic()
        if force or now - self._last_line >= self.every_s:
            self._last_line = now
            sys.stderr.write(progress_line(record) + "\n")
            sys.stderr.flush()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
