"""Speech-to-text contract: transcribe(audio, sr) -> Transcript. No heavy imports here.

Backends (registry capability "stt"): `faster_whisper` (embedded, packaged whisper weights).
Calls are synchronous and blocking; async callers run them in a thread."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from twin.providers.loading import TracksLoading


class STTOptions(BaseModel):
    """Options every STT backend understands."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field("en", description="Spoken language (ISO 639-1); None lets the model detect it.")
    beam_size: int = Field(1, ge=1, le=10, description="Beam width; 1 is greedy and fastest.")
    word_timestamps: bool = Field(False, description="Also return per-word timings where supported.")


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 0.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    confidence: float = 0.0  # 0-1, from the model's token probabilities
    words: tuple[Word, ...] = ()  # filled when word_timestamps was asked for and the backend supports it


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: list[Segment] = field(default_factory=list)
    confidence: float = 0.0  # 0-1, duration-weighted over segments
    language: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class STTCapabilities:
    languages: tuple[str, ...] = ("en",)
    word_timestamps: bool = False
    in_process: bool = True


class STT(TracksLoading, ABC):
    """A speech recognizer. `load()` does the heavy imports and opens the model (idempotent)."""

    name: ClassVar[str] = "stt"
    capabilities: STTCapabilities = STTCapabilities()

    def load(self) -> None:  # noqa: B027 - optional hook
        """Import the engine and open the model; called lazily by transcribe()."""

    @abstractmethod
    def transcribe(self, audio: np.ndarray, sr: int, options: STTOptions | None = None) -> Transcript:
        """Transcribe mono float32 audio at sample rate `sr`."""
