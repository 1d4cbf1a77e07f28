"""Silero VAD (ONNX model shipped in the silero-vad package), 32 ms frames at 16 kHz."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from twin.errors import MissingDependency
from twin.providers.vad import VAD


class SileroVAD(VAD):
    name = "silero"
    sample_rate = 16000

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._model is not None:
            return
        try:
            from silero_vad import load_silero_vad
        except ImportError:
            raise MissingDependency.for_extra("Voice activity detection", "voice", "silero_vad") from None
        self._model = load_silero_vad(onnx=True)

    def speech_probs(self, audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
        import torch

        from twin.voice.audio_io import resample

        self.load()
        x = resample(np.asarray(audio, dtype=np.float32), sr, 16000)
        if len(x) < 512:
            x = np.pad(x, (0, 512 - len(x)))
        with self._lock, torch.inference_mode():
            probs = self._model.audio_forward(torch.from_numpy(np.ascontiguousarray(x)), 16000)
        return probs.numpy().reshape(-1).astype(np.float32), 512 / 16000


def create(**kwargs: Any) -> SileroVAD:
    return SileroVAD(**kwargs)
