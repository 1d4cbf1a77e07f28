from __future__ import annotations

from pathlib import Path

import pytest

from twin.errors import InvalidInput, NotFound
from twin.train.config import TrainConfig, build_config, field_help


def test_defaults_follow_the_training_plan() -> None:
    cfg = TrainConfig()
    assert (cfg.rank, cfg.alpha, cfg.dropout) == (16, 32, 0.05)
    assert cfg.target_modules == ["q_proj", "v_proj"]
    assert cfg.learning_rate == 2e-4 and cfg.lr_scheduler == "cosine" and 0.05 <= cfg.warmup_ratio <= 0.10
    assert (cfg.batch_size, cfg.grad_accum, cfg.max_seq_len, cfg.epochs) == (4, 4, 1024, 2.0)
    assert cfg.effective_batch == 16


def test_every_field_has_help() -> None:
    helps = field_help()
    assert set(helps) == set(TrainConfig.model_fields)
    assert all(len(text) > 10 for text in helps.values())


def test_rank_above_32_needs_force() -> None:
    with pytest.raises(InvalidInput) as err:
        build_config(rank=64)
    assert "rank" in err.value.message and "--force" in err.value.hint
    assert build_config(rank=64, force=True).rank == 64
    assert build_config(rank=32).rank == 32


@pytest.mark.parametrize(
    "bad",
    [
        {"target_modules": ["q_proj"]},
        {"target_modules": ["q_proj", "v_proj", "x"]},
        {"epochs": 5},
        {"dropout": 1.5},
        {"unknown_field": 1},
        {"lr_scheduler": "step"},
    ],
)
def test_invalid_values_are_refused_with_the_field_named(bad: dict) -> None:
    with pytest.raises(InvalidInput) as err:
        build_config(**bad)
    assert next(iter(bad)) in err.value.message


def test_yaml_config_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("rank: 8\ntarget_modules: [q_proj, k_proj, v_proj, o_proj]\nmax_steps: 300\n")
    cfg = build_config(path, max_steps=None, epochs=1)
    assert cfg.rank == 8 and cfg.max_steps == 300 and cfg.epochs == 1
    assert cfg.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    with pytest.raises(NotFound):
        build_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InvalidInput):
        build_config(tmp_path / "list.yaml")


def test_print_config_is_a_loadable_yaml(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twin.cli.main import app

    res = CliRunner().invoke(app, ["train", "--print-config"])
    assert res.exit_code == 0 and "# LoRA rank r." in res.stdout
    path = tmp_path / "c.yaml"
    path.write_text(res.stdout)
    assert build_config(path) == TrainConfig()
