from __future__ import annotations

import json
from pathlib import Path

import pytest

from twin.errors import TooLarge
from twin.train.config import TrainConfig
from twin.train.hardware import HardwarePlan, check_resources, count_params, estimate


def _fake_checkpoint(tmp_path: Path, shape: list[int]) -> Path:
    header = json.dumps({"w": {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    return tmp_path


def test_estimate_scales_with_model_and_precision(tmp_path: Path) -> None:
    ckpt = _fake_checkpoint(tmp_path, [1000, 1000])
    assert count_params(ckpt) == 1_000_000
    cfg = TrainConfig()
    fp32 = estimate(ckpt, cfg, HardwarePlan("cpu", "fp32", "none", "adamw_torch"), 2, 64)
    nf4 = estimate(ckpt, cfg, HardwarePlan("cuda", "bf16", "nf4", "adamw_bnb_8bit"), 2, 64)
    assert fp32["memory_bytes"] > nf4["memory_bytes"] > 0 and fp32["disk_bytes"] > 0


def test_refuses_to_start_when_memory_or_disk_is_short() -> None:
    need = {"params": 7_000_000_000, "memory_bytes": 20 * 1024**3, "disk_bytes": 10 * 1024**2}
    with pytest.raises(TooLarge) as err:
        check_resources(need, {"memory_bytes": 8 * 1024**3, "disk_bytes": 1024**3}, "cpu")
    assert "20.00 GiB" in err.value.message and "8.00 GiB" in err.value.message and err.value.hint
    with pytest.raises(TooLarge) as err:
        check_resources(need | {"memory_bytes": 1}, {"memory_bytes": 8, "disk_bytes": 1024}, "cpu")
    assert "disk" in err.value.message
    check_resources(need, {"memory_bytes": 64 * 1024**3, "disk_bytes": 1024**4}, "cpu")
