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


def test_plain_lines_when_not_on_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("transformers")
    from twin.train.progress import RunCallback
    from twin.train.rundir import RunDir

    cb = RunCallback(RunDir(tmp_path), None, progress="lines", every_s=3600)
    state = SimpleNamespace(global_step=0, max_steps=3, epoch=0.0)
    cb.on_train_begin(None, state, None)
    for step in (1, 2, 3):
        state.global_step = step
        cb.on_log(None, state, None, logs={"loss": 1.0 / step, "learning_rate": 1e-4})
    cb.on_log(None, state, None, logs={"eval_loss": 0.5})
    lines = capsys.readouterr().err.splitlines()
    # the first and last steps and every evaluation, then at most one line per interval
    assert lines[0].startswith("train: step 1/3 · loss 1.0000 · lr 1.0e-04 · eta ")
    assert [ln.split(" · ")[0] for ln in lines] == ["train: step 1/3", "train: step 3/3", "train: step 3/3"]
    assert lines[-1] == "train: step 3/3 · eval loss 0.5000"
