"""Voice-activity detection contract. No heavy imports here.

Backends (registry capability "vad"): `silero` (silero-vad ONNX) and `energy` (numpy, no model)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from twin.providers.loading import TracksLoading


class VADOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(0.5, gt=0, lt=1, description="Speech probability above which a frame is speech.")
    min_speech_s: float = Field(0.25, ge=0, description="Shorter speech bursts are dropped.")
    min_silence_s: float = Field(0.1, ge=0, description="Shorter gaps do not split speech.")
    pad_s: float = Field(0.03, ge=0, description="Padding added around each speech region.")


class VAD(TracksLoading, ABC):
    """Per-frame speech probabilities and speech regions in seconds."""

    name: ClassVar[str] = "vad"
    sample_rate: int = 16000  # the rate the model works at; other rates are resampled

    def load(self) -> None:  # noqa: B027 - optional hook
        """Import the engine and open the model (idempotent)."""

    @abstractmethod
    def speech_probs(self, audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
        """(probabilities 0-1 per frame, frame hop in seconds) for mono float32 audio."""

    def speech_regions(
        self, audio: np.ndarray, sr: int, options: VADOptions | None = None
    ) -> list[tuple[float, float]]:
        """Speech regions (start_s, end_s), derived from speech_probs with hysteresis."""
        probs, hop = self.speech_probs(audio, sr)
        return regions_from_probs(probs, hop, options or VADOptions(), len(audio) / sr)


def regions_from_probs(probs: np.ndarray, hop: float, opt: VADOptions, total_s: float) -> list[tuple[float, float]]:
    """Threshold with hysteresis (exit at threshold - 0.15), merge short gaps, drop short bursts, pad."""
    on = False
    start = 0.0
    raw: list[tuple[float, float]] = []
    low = max(opt.threshold - 0.15, 0.01)
    for i, p in enumerate(probs):
        if not on and p >= opt.threshold:
            on, start = True, i * hop
        elif on and p < low:
            on = False
            raw.append((start, i * hop))
    if on:
        raw.append((start, len(probs) * hop))
    merged: list[tuple[float, float]] = []
    for s, e in raw:
        if merged and s - merged[-1][1] < opt.min_silence_s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    out = []
    for s, e in merged:
        if e - s >= opt.min_speech_s:
            out.append((max(0.0, s - opt.pad_s), min(total_s, e + opt.pad_s)))
    return out
