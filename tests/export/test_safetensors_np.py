"""The numpy safetensors reader gives the same float values torch does, bfloat16 included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.errors import UnsupportedFormat
from twin.export.safetensors_np import read_checkpoint


def test_bf16_f16_f32_match_torch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    tensors = {
        "a.bf16": torch.randn(3, 5, generator=g).to(torch.bfloat16),
        "b.f16": torch.randn(4, generator=g).to(torch.float16),
        "c.f32": torch.randn(2, 2, 2, generator=g),
    }
    save_file(tensors, str(tmp_path / "model.safetensors"))
    got = dict(read_checkpoint(tmp_path))
    for name, t in tensors.items():
        assert got[name].shape == tuple(t.shape)
        np.testing.assert_array_equal(got[name].astype(np.float32), t.float().numpy())
    save_file({"q": torch.zeros(2, dtype=torch.int8)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(UnsupportedFormat, match="I8"):
        dict(read_checkpoint(tmp_path))
