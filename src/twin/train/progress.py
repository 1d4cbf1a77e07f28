"""Trainer callback: metrics JSONL, per-step events (for --json) and a rich progress bar on a TTY."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback

from twin.train.rundir import RunDir


class RunCallback(TrainerCallback):
    """Records every log/eval into the run's metrics.jsonl and reports progress with loss and ETA."""

    def __init__(
        self, run: RunDir, on_event: Callable[[dict[str, Any]], None] | None = None, progress: bool = False
    ) -> None:
        self.run = run
        self.on_event = on_event
        self.show = progress
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
        if self._bar is not None and "loss" in logs:
            self._bar.update(self._task, completed=state.global_step, loss=f"{logs['loss']:.4f}")

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
