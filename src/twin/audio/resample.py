"""Resampling with soxr (the library librosa also uses): one-shot for whole signals and a streaming
resampler that is continuous across chunks, for audio that arrives or leaves piece by piece."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.audio import deps


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """High-quality resampling of a whole signal, (n,) or (n, channels), to float32."""
    if sr_in == sr_out:
        return np.asarray(audio, dtype=np.float32)
    out = deps.soxr().resample(np.asarray(audio, dtype=np.float32), sr_in, sr_out, quality="HQ")
    return np.asarray(out, dtype=np.float32)


class StreamResampler:
    """Resample a signal that arrives in chunks of any size, without clicks at the chunk edges.

    Resampling each chunk on its own restarts the filter at every edge (a discontinuity you hear as a
    click); this keeps soxr's filter state between chunks, so the joined output equals resampling the
    whole signal at once. Call `flush()` once at the end to get the filter's last samples."""

    def __init__(self, sr_in: int, sr_out: int, channels: int = 1, quality: str = "HQ") -> None:
        self.sr_in, self.sr_out, self.channels = int(sr_in), int(sr_out), int(channels)
        self._stream: Any = None
        if self.sr_in != self.sr_out:
            self._stream = deps.soxr().ResampleStream(self.sr_in, self.sr_out, self.channels, "float32", quality)
        self._closed = False
        self._ndim = 1 if self.channels == 1 else 2  # the flush comes out shaped like the input

    @property
    def passthrough(self) -> bool:
        return self._stream is None

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """The resampled part of `chunk` that is ready now (may be shorter or empty at first)."""
        if self._closed:
            raise RuntimeError("StreamResampler.process() after flush(); make a new resampler.")
        x = np.ascontiguousarray(chunk, dtype=np.float32)
        self._ndim = x.ndim
        if self._stream is None:
            return x
        return np.asarray(self._stream.resample_chunk(x), dtype=np.float32)

    def flush(self) -> np.ndarray:
        """The samples still held in the filter; the stream is finished afterwards."""
        empty = np.zeros((0,) if self._ndim == 1 else (0, self.channels), dtype=np.float32)
        if self._closed:
            return empty
        self._closed = True
        if self._stream is None:
            return empty
        return np.asarray(self._stream.resample_chunk(empty, last=True), dtype=np.float32)
