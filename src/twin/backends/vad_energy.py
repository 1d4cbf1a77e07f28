"""Energy VAD: no model, numpy only. A fallback where silero is not installed, and a fast test double.

Frames of 20 ms; a frame's speech probability is a logistic of its level above the noise floor (the
10th percentile of frame levels), centred `margin_db` above it."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.providers.vad import VAD


class EnergyStream:
    """Streaming form: the noise floor follows the quietest recent frames (falls at once, rises 3 dB/s)."""

    def __init__(self, margin_db: float, frame_s: float) -> None:
        self.margin_db = margin_db
        self._hop = max(1, int(16000 * frame_s))
        self.hop_s = self._hop / 16000
        self._rise = 3.0 * self.hop_s
        self._floor: float | None = None
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, chunk: np.ndarray) -> list[float]:
        self._pending = np.concatenate([self._pending, np.asarray(chunk, dtype=np.float32).reshape(-1)])
        n = len(self._pending) // self._hop
        frames = self._pending[: n * self._hop].reshape(n, self._hop)
        self._pending = self._pending[n * self._hop :]
        out = []
        for frame in frames:
            db = 10 * float(np.log10(np.mean(frame**2) + 1e-10))
            floor = max(db, -90.0) if self._floor is None else min(db, self._floor + self._rise)
            self._floor = max(floor, -90.0)
            p = 0.0 if db < -60 else 1.0 / (1.0 + np.exp(-(db - self._floor - self.margin_db) / 2.0))
            out.append(float(p))
        return out


class EnergyVAD(VAD):
    name = "energy"

    def __init__(self, margin_db: float = 12.0, frame_s: float = 0.02) -> None:
        self.margin_db = margin_db
        self.frame_s = frame_s

    def prob_stream(self) -> EnergyStream:
        return EnergyStream(self.margin_db, self.frame_s)

    def speech_probs(self, audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
        hop = max(1, int(sr * self.frame_s))
        n = len(audio) // hop
        if n == 0:
            return np.zeros(0, dtype=np.float32), hop / sr
        frames = np.asarray(audio[: n * hop], dtype=np.float32).reshape(n, hop)
        db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
        floor = max(float(np.percentile(db, 10)), -90.0)
        probs = 1.0 / (1.0 + np.exp(-(db - floor - self.margin_db) / 2.0))
        probs[db < -60] = 0.0
        return probs.astype(np.float32), hop / sr


def create(**kwargs: Any) -> EnergyVAD:
    return EnergyVAD(**kwargs)
