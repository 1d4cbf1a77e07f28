"""Denoise contract: denoise(audio, sr) -> audio of the same length and rate. No heavy imports here.

Backend (registry capability "denoise"): `rnnoise` (pyrnnoise; works at 48 kHz internally)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from twin.providers.loading import TracksLoading


class Denoiser(TracksLoading, ABC):
    name: ClassVar[str] = "denoise"

    def load(self) -> None:  # noqa: B027 - optional hook
        """Import the engine (idempotent)."""

    @abstractmethod
    def denoise(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Noise-reduced mono float32 audio, same length and sample rate as the input."""
