"""Energy VAD: no model, numpy only. A fallback where silero is not installed, and a fast test double.

Frames of 20 ms; a frame's speech probability is a logistic of its level above the noise floor (the
10th percentile of frame levels), centred `margin_db` above it."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.providers.vad import VAD


class EnergyVAD(VAD):
    name = "energy"

    def __init__(self, margin_db: float = 12.0, frame_s: float = 0.02) -> None:
        self.margin_db = margin_db
        self.frame_s = frame_s

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
