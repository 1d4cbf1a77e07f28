"""RNNoise denoiser via pyrnnoise's C library: 48 kHz int16-scaled frames of 480 samples.

The frame loop is driven here (pyrnnoise's own streaming graph needs its audiolab resampler);
we resample with soxr to 48 kHz and back."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.errors import MissingDependency
from twin.providers.denoise import Denoiser


class RNNoiseDenoiser(Denoiser):
    name = "rnnoise"

    def __init__(self) -> None:
        self._lib: Any = None

    def load(self) -> None:
        if self._lib is not None:
            return
        try:
            from pyrnnoise import rnnoise
        except ImportError:
            raise MissingDependency.for_extra("Denoising", "voice", "pyrnnoise") from None
        self._lib = rnnoise

    def denoise(self, audio: np.ndarray, sr: int) -> np.ndarray:
        from twin.voice.audio_io import resample

        self.load()
        rn = self._lib
        x = resample(np.asarray(audio, dtype=np.float32), sr, rn.SAMPLE_RATE)
        n = len(x)
        frame = rn.FRAME_SIZE
        padded = np.zeros(-(-n // frame) * frame, dtype=np.int16)
        padded[:n] = np.clip(x * 32767.0, -32768, 32767).astype(np.int16)
        out = np.empty_like(padded)
        state = rn.create()
        try:
            for i in range(0, len(padded), frame):
                out[i : i + frame], _prob = rn.process_mono_frame(state, padded[i : i + frame])
        finally:
            rn.destroy(state)
        y = out[:n].astype(np.float32) / 32767.0
        y = resample(y, rn.SAMPLE_RATE, sr)
        if len(y) < len(audio):
            y = np.pad(y, (0, len(audio) - len(y)))
        return y[: len(audio)].astype(np.float32)


def create(**kwargs: Any) -> RNNoiseDenoiser:
    return RNNoiseDenoiser(**kwargs)
