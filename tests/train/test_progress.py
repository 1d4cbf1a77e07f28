from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest


def test_callback_records_metrics_and_events_with_eta(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from twin.train.progress import RunCallback
    from twin.train.rundir import RunDir

    events: list[dict] = []
    cb = RunCallback(RunDir(tmp_path), events.append, progress=True)
    state = SimpleNamespace(global_step=0, max_steps=4, epoch=0.0)
    cb.on_train_begin(None, state, None)
    for step in (1, 2):
        state.global_step, state.epoch = step, step / 4
        cb.on_step_end(None, state, None)
        cb.on_log(None, state, None, logs={"loss": 2.0 / step, "learning_rate": 1e-4})
    cb.on_log(None, state, None, logs={"eval_loss": 1.5})
    cb.on_log(None, state, None, logs={"train_runtime": 3.0, "train_loss": 1.2})
    cb.on_train_end(None, state, None)
    assert [e["event"] for e in events] == ["train", "train", "eval", "summary"]
    assert events[1]["loss"] == 1.0 and events[1]["eta_s"] is not None and events[1]["eta_s"] >= 0
    assert RunDir(tmp_path).metrics() == events
