"""RNNoise denoiser via pyrnnoise's C library: 48 kHz int16-scaled frames of 480 samples.

The frame loop is driven here (pyrnnoise's own streaming graph needs its audiolab resampler);
we resample with soxr to 48 kHz and back."""

from __future__ import annotations

import ctypes
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
        from twin.audio.resample import resample

        self.load()
        rn = self._lib
        x = resample(np.asarray(audio, dtype=np.float32), sr, rn.SAMPLE_RATE)
        n = len(x)
        frame = rn.FRAME_SIZE
        # RNNoise works on float frames in int16 range; call the C function directly on views of one
        # buffer (in place) instead of pyrnnoise's per-frame copies.
        buf = np.zeros(-(-n // frame) * frame, dtype=np.float32)
        buf[:n] = np.clip(x * 32767.0, -32768, 32767)
        state = rn.create()
        try:
            fp = ctypes.POINTER(ctypes.c_float)
            base = buf.ctypes.data
            step = frame * buf.itemsize
            for i in range(len(buf) // frame):
                ptr = ctypes.cast(base + i * step, fp)
                rn.lib.rnnoise_process_frame(state, ptr, ptr)
        finally:
            rn.destroy(state)
        out = buf
        y = out[:n] / np.float32(32767.0)
        y = resample(y, rn.SAMPLE_RATE, sr)
        if len(y) < len(audio):
            y = np.pad(y, (0, len(audio) - len(y)))
        return y[: len(audio)].astype(np.float32)


def create(**kwargs: Any) -> RNNoiseDenoiser:
    return RNNoiseDenoiser(**kwargs)
