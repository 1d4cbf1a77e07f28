"""Output audio: everything leaves the synthesizer as 22,050 Hz mono, encoded as WAV (16-bit PCM) or MP3.

WAV goes through soundfile, MP3 through lameenc (both in the voice extra). The streaming encoders emit
bytes chunk by chunk: a WAV header with an open-ended length first (the usual streaming convention,
readers take "until end of stream"), then PCM; MP3 frames as lame releases them.
"""

from __future__ import annotations

import io
import struct

import numpy as np

from twin.errors import InvalidInput, MissingDependency

OUTPUT_RATE = 22050
FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def check_format(fmt: str) -> str:
    fmt = (fmt or "wav").lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown audio format '{fmt}'.", "Use one of: " + ", ".join(FORMATS))
    return fmt


def to_output(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at OUTPUT_RATE, clipped to [-1, 1]."""
    from twin.voice.audio_io import resample

    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if sample_rate != OUTPUT_RATE and audio.size:
        audio = resample(audio, sample_rate, OUTPUT_RATE)
    return np.clip(np.nan_to_num(audio), -1.0, 1.0).astype(np.float32)


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def wav_header(sample_rate: int = OUTPUT_RATE, n_samples: int | None = None) -> bytes:
    """RIFF/WAVE header for 16-bit mono PCM; n_samples=None writes the 0xFFFFFFFF 'unknown' sizes."""
    data = 0xFFFFFFFF if n_samples is None else n_samples * 2
    riff = 0xFFFFFFFF if n_samples is None else 36 + data
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data)
    )


def encode(samples: np.ndarray, fmt: str, sample_rate: int = OUTPUT_RATE) -> bytes:
    fmt = check_format(fmt)
    if fmt == "wav":
        return wav_header(sample_rate, len(samples)) + pcm16(samples)
    enc = Mp3Stream(sample_rate)
    return enc.feed(samples) + enc.close()


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode WAV/MP3/FLAC/OGG bytes to mono float32 (used for engine replies and in tests)."""
    if data[:4] == b"RIFF" and data[4:8] == b"\xff\xff\xff\xff":
        return decode_streamed_wav(data)
    try:
        import soundfile as sf
    except ImportError:
        raise MissingDependency.for_extra("Decoding audio", "voice", "soundfile") from None
    try:
        audio, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError
        raise InvalidInput(
            f"Audio could not be decoded ({exc}).",
            "The engine returned something that is not WAV/MP3/FLAC/OGG; check its media type setting.",
        ) from None
    return audio.mean(axis=1).astype(np.float32), int(sr)


def decode_streamed_wav(data: bytes) -> tuple[np.ndarray, int]:
    """A WAV whose header says 'unknown length': read the fmt chunk, take everything after 'data'."""
    pos = data.find(b"fmt ")
    idx = data.find(b"data", 12)
    if pos < 0 or idx < 0:
        raise InvalidInput("Streamed WAV has no fmt/data chunk.", "The engine's stream is not WAV.")
    channels, rate = struct.unpack("<HI", data[pos + 10 : pos + 16])
    bits = struct.unpack("<H", data[pos + 22 : pos + 24])[0]
    if bits != 16:
        raise InvalidInput(f"Streamed WAV uses {bits}-bit samples.", "Ask the engine for 16-bit PCM.")
    body = data[idx + 8 :]
    body = body[: len(body) - len(body) % (2 * channels)]
    pcm = np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768.0
    return pcm.reshape(-1, channels).mean(axis=1), int(rate)


class WavStream:
    """Incremental WAV: header first, then PCM16 per chunk."""

    def __init__(self, sample_rate: int = OUTPUT_RATE) -> None:
        self.sample_rate = sample_rate
        self._started = False

    def feed(self, samples: np.ndarray) -> bytes:
        head = b"" if self._started else wav_header(self.sample_rate)
        self._started = True
        return head + pcm16(samples)

    def close(self) -> bytes:
        return b"" if self._started else wav_header(self.sample_rate, 0)


class Mp3Stream:
    """Incremental MP3 through lameenc (mono, 64 kbit/s is plenty for speech at 22,050 Hz)."""

    def __init__(self, sample_rate: int = OUTPUT_RATE, bitrate: int = 64) -> None:
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
        return bytes(self._enc.encode(pcm16(samples)))

    def close(self) -> bytes:
        return bytes(self._enc.flush())


def stream_encoder(fmt: str, sample_rate: int = OUTPUT_RATE) -> WavStream | Mp3Stream:
    return WavStream(sample_rate) if check_format(fmt) == "wav" else Mp3Stream(sample_rate)
