"""Text-to-speech contract: a backend turns text + a voice into an async stream of float32 mono chunks.

Backends live in twin.backends.tts_* and are built through the registry ("tts" capability). The one entry
point the rest of twin uses is twin.voice.synth.Synthesizer, which adds normalization, chunking, the
cache, de-duplication and the fallback chain on top of these backends.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from twin.errors import MissingDependency, Timeout, TwinError, Unavailable
from twin.providers.loading import TracksLoading

# Errors that mean "this engine cannot serve right now": the synthesizer falls back to the next engine.
FALLBACK_ERRORS: tuple[type[TwinError], ...] = (Unavailable, MissingDependency, Timeout)


@dataclass
class AudioChunk:
    """A piece of synthesized speech: float32 mono samples in [-1, 1] at `sample_rate`."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0


@dataclass(frozen=True)
class TTSCapabilities:
    streaming: bool = False
    zero_shot: bool = False  # clones from a reference clip without training
    emotions: bool = False  # honours per-emotion references
    trained_voices: bool = False  # applies a converter trained on the owner's recordings
    sample_rate: int = 22050  # native output rate before the synthesizer's normalization


@dataclass(frozen=True)
class VoiceSpec:
    """What to sound like. All None means the engine's own base voice."""

    voice_id: str | None = None
    voice_dir: Path | None = None  # profile.voice_dir/profiles/<voice_id>
    reference_audio: Path | None = None  # the clip to clone from (per-emotion when one exists)
    reference_text: str | None = None  # transcript of reference_audio (GPT-SoVITS needs it)
    language: str = "en"
    converter_dir: Path | None = None  # where a trained converter lives (engines with trained_voices)

    @property
    def is_base(self) -> bool:
        return self.voice_id is None and self.reference_audio is None


class TTSOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate; 1.0 is the engine's normal pace.")
    emotion: str | None = Field(None, description="Emotion tag; picks the matching reference clip.")
    language: str = Field("en", description="Language of the text (ISO 639-1).")


@dataclass
class BackendState:
    usable: bool = True
    reason: str = ""
    since: float = field(default_factory=time.monotonic)


class TTSBackend(TracksLoading, ABC):
    """One engine. Heavy imports happen in load(); synthesize() yields chunks as soon as they exist.

    A backend that finds it cannot serve (engine down, extra missing) raises one of FALLBACK_ERRORS and
    calls mark_unusable(); the synthesizer then tries the next engine and retries this one after
    `retry_after_s`."""

    name: str = "tts"
    version: str = "0"
    capabilities: TTSCapabilities = TTSCapabilities()
    retry_after_s: float = 30.0

    def __init__(self) -> None:
        self.state = BackendState()

    @property
    def engine_id(self) -> str:
        """name@version: part of every cache key so a new engine version never serves stale audio."""
        return f"{self.name}@{self.version}"

    def load(self) -> None:  # noqa: B027 - optional hook
        """Import heavy modules and warm models. Idempotent."""

    @property
    def usable(self) -> bool:
        if not self.state.usable and time.monotonic() - self.state.since > self.retry_after_s:
            self.state = BackendState()
        return self.state.usable

    def mark_unusable(self, reason: str) -> None:
        self.state = BackendState(usable=False, reason=reason)

    def mark_usable(self) -> None:
        if not self.state.usable:
            self.state = BackendState()

    async def health(self) -> bool:
        """True when the engine can serve now (default: it loads)."""
        try:
            self.load()
        except FALLBACK_ERRORS:
            return False
        return True

    @abstractmethod
    def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        """Speak `text` (already normalized, one chunk of a longer text) in `voice`."""
