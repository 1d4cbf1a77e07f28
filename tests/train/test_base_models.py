from __future__ import annotations

from pathlib import Path

import pytest

from twin.errors import NotFound
from twin.train.base_models import resolve_base


def _fake_hf_cache(root: Path, repo: str) -> Path:
    model_dir = root / ("models--" + repo.replace("/", "--"))
    snap = model_dir / "snapshots" / "0123abcd"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text('{"model_type": "qwen2"}')
    (model_dir / "refs").mkdir()
    (model_dir / "refs" / "main").write_text("0123abcd")
    return snap


def test_alias_resolves_from_the_local_hf_cache_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snap = _fake_hf_cache(tmp_path / "hub", "Qwen/Qwen2.5-0.5B-Instruct")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hub"))
    resolved = resolve_base("Qwen2.5-0.5B-Instruct")
    assert resolved.path == snap and resolved.gguf is None
    with pytest.raises(NotFound) as err:
        resolve_base("llama-3.1-8b-instruct")
    assert "never downloads" in err.value.message and "--base" in err.value.hint


def test_local_paths_and_unknown_names(tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(NotFound):
        resolve_base(str(tmp_path / "ckpt"))  # no config.json
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    assert resolve_base(str(tmp_path / "ckpt")).path == (tmp_path / "ckpt").resolve()
    with pytest.raises(NotFound) as err:
        resolve_base("gpt-17")
    assert "qwen2.5-7b-instruct" in err.value.hint
