"""The synthesizer's output: 22,050 Hz mono float32, encoded as WAV (16-bit PCM) or MP3.

The encoders themselves live in twin.audio.encode; this module fixes the rate every engine's audio is
brought to, so cached, streamed and whole results are byte-compatible."""

from __future__ import annotations

import numpy as np

from twin.audio import encode as _encode
from twin.audio.encode import FORMATS, Mp3Stream, WavStream, check_format
from twin.audio.pcm import wav_header as _wav_header
from twin.audio.resample import StreamResampler

OUTPUT_RATE = 22050

__all__ = ["FORMATS", "OUTPUT_RATE", "OutputStream", "check_format", "encode", "stream_encoder", "wav_header"]


def _finish(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(audio), -1.0, 1.0).astype(np.float32)


class OutputStream:
    """One engine stream's chunks as mono float32 at OUTPUT_RATE, resampled continuously across chunks
    (resampling each chunk on its own would click at every chunk edge)."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._resampler = StreamResampler(sample_rate, OUTPUT_RATE)

    def push(self, samples: np.ndarray) -> np.ndarray:
        audio = np.asarray(samples, dtype=np.float32)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        return _finish(self._resampler.process(audio))

    def flush(self) -> np.ndarray:
        return _finish(self._resampler.flush())


def wav_header(sample_rate: int = OUTPUT_RATE, n_samples: int | None = None) -> bytes:
    return _wav_header(sample_rate, n_samples)


def encode(samples: np.ndarray, fmt: str, sample_rate: int = OUTPUT_RATE) -> bytes:
    return _encode.encode(samples, fmt, sample_rate)


def stream_encoder(fmt: str, sample_rate: int = OUTPUT_RATE) -> WavStream | Mp3Stream:
    return _encode.stream_encoder(fmt, sample_rate)
