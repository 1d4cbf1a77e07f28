"""PCM16 framing: float32 <-> 16-bit little-endian PCM bytes, fixed-size frames cut from a byte stream
(the wire format of microphones and of the voice loop), and the WAV header for 16-bit PCM."""

from __future__ import annotations

import struct

import numpy as np

_SCALE = 32767.0


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float audio in [-1, 1] (clipped) as PCM16LE bytes (interleaved when (n, channels))."""
    x = np.clip(np.nan_to_num(np.asarray(samples, dtype=np.float32)), -1.0, 1.0)
    return np.round(x * _SCALE).astype("<i2").tobytes()


def from_pcm16(data: bytes, channels: int = 1) -> np.ndarray:
    """PCM16LE bytes as float32 in [-1, 1): (n,) for mono, (n, channels) otherwise."""
    width = 2 * channels
    if len(data) % width:
        raise ValueError(f"{len(data)} bytes is not a whole number of {channels}-channel PCM16 frames.")
    x = np.frombuffer(data, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    return x if channels == 1 else x.reshape(-1, channels)


class PCM16Framer:
    """Cut a byte stream of PCM16LE into frames of exactly `frame_samples` samples (per channel).

    Bytes may arrive in pieces of any size, even splitting a sample in two; whatever does not fill a
    frame yet is kept for the next `feed`."""

    def __init__(self, frame_samples: int, channels: int = 1) -> None:
        if frame_samples <= 0 or channels <= 0:
            raise ValueError("frame_samples and channels must be positive.")
        self.frame_samples, self.channels = frame_samples, channels
        self.frame_bytes = frame_samples * channels * 2
        self._pending = bytearray()

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)

    def feed(self, data: bytes) -> list[bytes]:
        """The whole frames now available, in order."""
        self._pending += data
        n = len(self._pending) // self.frame_bytes
        frames = [bytes(self._pending[i * self.frame_bytes : (i + 1) * self.frame_bytes]) for i in range(n)]
        del self._pending[: n * self.frame_bytes]
        return frames

    def feed_samples(self, data: bytes) -> list[np.ndarray]:
        """Like `feed`, decoded to float32 frames."""
        return [from_pcm16(f, self.channels) for f in self.feed(data)]

    def flush(self, pad: bool = True) -> bytes | None:
        """The last partial frame, zero-padded to full size (pad=True) or as it is; None when empty.
        A trailing odd byte (half a sample) is dropped."""
        usable = len(self._pending) - len(self._pending) % (2 * self.channels)
        rest = bytes(self._pending[:usable])
        self._pending.clear()
        if not rest:
            return None
        return rest + b"\x00" * (self.frame_bytes - len(rest)) if pad else rest


def wav_header(sample_rate: int, n_samples: int | None = None, channels: int = 1) -> bytes:
    """RIFF/WAVE header for 16-bit PCM; n_samples=None writes the 0xFFFFFFFF 'unknown' sizes used when
    streaming (readers take everything up to the end of the stream)."""
    block = 2 * channels
    data = 0xFFFFFFFF if n_samples is None else n_samples * block
    riff = 0xFFFFFFFF if n_samples is None else 36 + data
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block, block, 16)
        + b"data"
        + struct.pack("<I", data)
    )
