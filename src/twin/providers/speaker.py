"""Speaker-embedding contract: embed(audio, sr) -> unit-length float32 vector. No heavy imports here.

Backend (registry capability "speaker"): `resemblyzer` (256-d GE2E encoder shipped in the package)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from twin.providers.loading import TracksLoading


class SpeakerEncoder(TracksLoading, ABC):
    name: ClassVar[str] = "speaker"
    dim: int = 256

    def load(self) -> None:  # noqa: B027 - optional hook
        """Import the engine and open the model (idempotent)."""

    @abstractmethod
    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """L2-normalised embedding (float32, shape (dim,)) of mono float32 audio."""


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(np.dot(a, b) / (na * nb)) if na and nb else 0.0
