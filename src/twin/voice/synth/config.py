"""Which engines speak for a profile, and how to reach them: `profile.voice_dir/tts.json`.

    {"engine": "auto", "fallback": ["clone", "piper"],
     "engines": {"gptsovits": {"base_url": "http://127.0.0.1:9880"}},
     "cache_max_mb": 256}

"auto" = every configured external zero-shot engine (in `engines` order), then the embedded clone,
then the plain base voice. A voice's own voice.json may name an engine ("tts_engine") that goes first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.errors import InvalidInput
from twin.profiles import Profile, write_text_atomic

EXTERNAL_ENGINES = ("openvoice", "gptsovits", "xtts", "openai_speech")
EMBEDDED_CHAIN = ["clone", "piper"]


class TTSConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: str = Field("auto", description="Engine to try first, or 'auto' for the default order.")
    fallback: list[str] = Field(
        default_factory=lambda: list(EMBEDDED_CHAIN),
        description="Engines tried, in order, when the ones before are unusable.",
    )
    engines: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-engine settings (base_url, timeout_s, …)."
    )
    cache_max_mb: int = Field(256, ge=0, description="Size bound of the audio cache; 0 disables it.")
    max_chars: int = Field(5000, ge=1, description="Longest text one request may speak.")

    def chain(self, first: str | None = None, voice_engine: str | None = None) -> list[str]:
        """The ordered, de-duplicated engine list for one request."""
        order: list[str] = []
        if first:
            order.append(first)
        if voice_engine:
            order.append(voice_engine)
        if self.engine != "auto":
            order.append(self.engine)
        else:
            order.extend(name for name in self.engines if name in EXTERNAL_ENGINES)
        order.extend(self.fallback)
        seen: list[str] = []
        for name in order:
            if name not in seen:
                seen.append(name)
        return seen

    def kwargs_for(self, name: str) -> dict[str, Any]:
        return dict(self.engines.get(name, {}))


def config_path(profile: Profile) -> Path:
    return profile.voice_dir / "tts.json"


def load_config(profile: Profile) -> TTSConfig:
    path = config_path(profile)
    if not path.is_file():
        return TTSConfig()
    try:
        return TTSConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise InvalidInput(
            f"{path} is not a valid TTS configuration: {exc.errors()[0]['msg']}.",
            "Fix or delete the file; `twin speak --help` lists the engines.",
        ) from None


def save_config(profile: Profile, config: TTSConfig) -> None:
    write_text_atomic(config_path(profile), config.model_dump_json(indent=2))
