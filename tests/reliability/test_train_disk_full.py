"""The disk fills while training writes a checkpoint: the run stops with a clear error, the partial
checkpoint is never resumed from, and `--resume` completes the run."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from twin.errors import is_disk_full
from twin.train.smoke import write_fixture_dataset

pytest.importorskip("transformers")
pytest.importorskip("peft")


def test_disk_full_during_a_checkpoint_then_resume(
    tiny_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers

    from twin.train.config import TrainConfig
    from twin.train.rundir import RunDir
    from twin.train.runner import execute_run, prepare_run

    run = RunDir(tmp_path / "run")
    cfg = TrainConfig(
        base=str(tiny_base),
        max_steps=3,
        batch_size=2,
        grad_accum=1,
        max_seq_len=128,
        eval_steps=10,
        save_steps=1,
        report_drafts=0,
    )
    prepare_run(run, cfg, write_fixture_dataset(tmp_path / "ds"), "ds")
    real = transformers.Trainer._save_optimizer_and_scheduler

    def full_at_step_two(self, output_dir):  # noqa: ANN001, ANN202 - the Trainer's own signature
        if self.state.global_step == 2:  # the model weights of checkpoint-2 are written; then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, output_dir)

    monkeypatch.setattr(transformers.Trainer, "_save_optimizer_and_scheduler", full_at_step_two)
    with pytest.raises(OSError) as info:
        execute_run(run)
    assert is_disk_full(info.value)
    assert run.manifest()["status"] == "training"
    assert run.latest_checkpoint() is not None and run.latest_checkpoint().name == "checkpoint-1"
    monkeypatch.setattr(transformers.Trainer, "_save_optimizer_and_scheduler", real)
    report = execute_run(run, resume=True)
    assert report["train"]["global_step"] == 3
    assert run.manifest()["status"] == "complete" and run.manifest()["resumed_from"].endswith("checkpoint-1")
    assert (run.adapter / "adapter_config.json").is_file()
