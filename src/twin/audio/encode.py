"""Encoding: WAV files (16-bit PCM, written atomically), WAV/MP3 bytes, and streaming encoders that emit
bytes chunk by chunk (a WAV header with open-ended sizes first, then PCM; MP3 frames as lame releases
them). MP3 goes through lameenc (the voice extra)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from twin.audio import deps
from twin.audio.pcm import to_pcm16, wav_header
from twin.errors import InvalidInput, MissingDependency

FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def check_format(fmt: str) -> str:
    """The lower-cased format name, or InvalidInput listing the ones we encode."""
    fmt = (fmt or "wav").lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown audio format '{fmt}'.", "Use one of: " + ", ".join(FORMATS))
    return fmt


def save_wav(path: str | os.PathLike[str], audio: np.ndarray, sr: int) -> Path:
    """Write float audio (clipped to [-1, 1]) as 16-bit PCM WAV, atomically (temp file + rename)."""
    sf = deps.soundfile()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    sf.write(str(tmp), np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
    os.replace(tmp, out)
    return out


def encode(samples: np.ndarray, fmt: str, sample_rate: int) -> bytes:
    """Mono float audio as a complete WAV or MP3 file in memory."""
    fmt = check_format(fmt)
    if fmt == "wav":
        return wav_header(sample_rate, len(samples)) + to_pcm16(samples)
    enc = Mp3Stream(sample_rate)
    return enc.feed(samples) + enc.close()


class WavStream:
    """Incremental WAV: header first, then PCM16 per chunk."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._started = False

    def feed(self, samples: np.ndarray) -> bytes:
        head = b"" if self._started else wav_header(self.sample_rate)
        self._started = True
        return head + to_pcm16(samples)

    def close(self) -> bytes:
        return b"" if self._started else wav_header(self.sample_rate, 0)


class Mp3Stream:
    """Incremental mono MP3 through lameenc (64 kbit/s is plenty for speech)."""

    def __init__(self, sample_rate: int, bitrate: int = 64) -> None:
        try:
            import lameenc
        except ImportError:
            raise MissingDependency.for_extra("MP3 output", "voice", "lameenc") from None
        self._enc = lameenc.Encoder()
        self._enc.set_bit_rate(bitrate)
        self._enc.set_in_sample_rate(sample_rate)
        self._enc.set_channels(1)
        self._enc.set_quality(5)

    def feed(self, samples: np.ndarray) -> bytes:
        return bytes(self._enc.encode(to_pcm16(samples)))

    def close(self) -> bytes:
        return bytes(self._enc.flush())


def stream_encoder(fmt: str, sample_rate: int) -> WavStream | Mp3Stream:
    return WavStream(sample_rate) if check_format(fmt) == "wav" else Mp3Stream(sample_rate)
