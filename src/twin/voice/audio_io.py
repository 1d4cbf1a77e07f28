"""Audio input/output with validation before decoding.

`probe` reads only the container header and checks it against limits (sample rate, channels, declared
size and duration) so that an absurd or truncated file fails with a clear TwinError before a single
sample is decoded. `load_audio` decodes (soundfile for WAV/FLAC/OGG/MP3, ffmpeg for M4A/WebM/Opus when
it is installed) into float32, optionally mono and resampled. `save_wav` writes 16-bit PCM WAV.

The WAV chunk walk is written here because libsndfile silently accepts truncated data chunks and
absurd declared sizes; we want those reported, per file, before decoding.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from pydantic import BaseModel, Field

from twin.errors import InvalidInput, MissingDependency, NotFound, ParseError, TooLarge, UnsupportedFormat

Source = str | os.PathLike[str] | bytes


class AudioLimits(BaseModel):
    """Limits checked from the header, before any decoding."""

    max_bytes: int = Field(2 * 1024**3, description="Largest file (or declared data chunk) accepted, in bytes.")
    max_duration_s: float = Field(4 * 3600.0, description="Longest recording accepted, in seconds.")
    max_channels: int = Field(8, description="Most channels accepted.")
    min_sample_rate: int = Field(4000, description="Lowest sample rate accepted, in Hz.")
    max_sample_rate: int = Field(384_000, description="Highest sample rate accepted, in Hz.")


DEFAULT_LIMITS = AudioLimits()

SOUNDFILE_FORMATS = ("wav", "flac", "ogg", "mp3", "opus")  # libsndfile >= 1.0.29 reads Ogg Opus
FFMPEG_FORMATS = ("m4a", "webm")
AUDIO_SUFFIXES = {".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".mp4", ".aac", ".webm", ".opus"}


@dataclass(frozen=True)
class AudioInfo:
    """What a header says about a recording."""

    format: str
    sample_rate: int
    channels: int
    frames: int
    size_bytes: int
    subtype: str = ""

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "duration_s": round(self.duration_s, 3)}


class _Reader:
    """Random access over a path or bytes without reading the whole file."""

    def __init__(self, src: Source) -> None:
        if isinstance(src, bytes | bytearray):
            self.name = "<upload>"
            self._fh: BinaryIO = io.BytesIO(bytes(src))
            self.size = len(src)
        else:
            path = Path(src)
            self.name = path.name
            if not path.exists():
                raise NotFound(f"{path}: no such file.", "Check the path.")
            if not path.is_file():
                raise InvalidInput(f"{path}: not a regular file.", "Pass an audio file, not a folder or device.")
            self._fh = path.open("rb")
            self.size = path.stat().st_size

    def read(self, offset: int, n: int) -> bytes:
        self._fh.seek(offset)
        return self._fh.read(n)

    def close(self) -> None:
        self._fh.close()


def sniff_format(head: bytes, name: str = "") -> str:
    """Container format from the first bytes; raise UnsupportedFormat for anything that is not audio."""
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and (len(head) < 12 or head[8:12] == b"WAVE"):
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "opus" if b"OpusHead" in head[:200] else "ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    raise UnsupportedFormat(
        f"{name}: not a recognised audio file (unknown header {head[:4]!r}).",
        "Supported: WAV, FLAC, OGG, MP3; M4A, WebM and Opus with ffmpeg installed.",
    )


def probe(src: Source, limits: AudioLimits = DEFAULT_LIMITS) -> AudioInfo:
    """Validate the header of `src` (a path or bytes) against `limits` and describe it; never decodes."""
    reader = _Reader(src)
    try:
        if reader.size == 0:
            raise InvalidInput(f"{reader.name}: the file is empty.", "Re-export or re-record it.")
        if reader.size > limits.max_bytes:
            raise TooLarge(
                f"{reader.name}: {reader.size} bytes is over the {limits.max_bytes}-byte limit.",
                "Split the recording into smaller files.",
            )
        head = reader.read(0, 4096)
        fmt = sniff_format(head, reader.name)
        if fmt == "wav":
            info = _probe_wav(reader, limits)
        elif fmt in SOUNDFILE_FORMATS:
            info = _probe_soundfile(src, reader, fmt)
        else:
            info = _probe_ffmpeg(src, reader, fmt)
    finally:
        reader.close()
    check_limits(info, limits, reader.name)
    return info


def check_limits(info: AudioInfo, limits: AudioLimits, name: str) -> None:
    """Raise a clear error when a header's numbers are absurd or over the limits."""
    if info.sample_rate <= 0:
        raise InvalidInput(
            f"{name}: the header says the sample rate is {info.sample_rate} Hz.",
            "The file is corrupt; re-export it.",
        )
    if not limits.min_sample_rate <= info.sample_rate <= limits.max_sample_rate:
        raise InvalidInput(
            f"{name}: sample rate {info.sample_rate} Hz is outside "
            f"{limits.min_sample_rate}-{limits.max_sample_rate} Hz.",
            "Re-export at 16-48 kHz.",
        )
    if not 1 <= info.channels <= limits.max_channels:
        raise InvalidInput(
            f"{name}: {info.channels} channels is not supported (1-{limits.max_channels}).",
            "Re-export as mono or stereo.",
        )
    if info.frames <= 0:
        raise InvalidInput(f"{name}: the file holds no audio samples.", "Re-export or re-record it.")
    if info.duration_s > limits.max_duration_s:
        raise TooLarge(
            f"{name}: {info.duration_s:.0f} s is longer than the {limits.max_duration_s:.0f} s limit.",
            "Split the recording into shorter files.",
        )


def _chunk_walk(reader: _Reader, big: bool) -> tuple[dict[str, tuple[int, int]], int]:
    """Offsets and declared sizes of chunks up to and including 'data', and the ds64 data size."""
    endian = ">" if big else "<"
    chunks: dict[str, tuple[int, int]] = {}
    ds64_data = -1
    pos = 12
    while pos + 8 <= reader.size:
        cid_raw, size = struct.unpack(endian + "4sI", reader.read(pos, 8))
        cid = cid_raw.decode("latin-1")
        chunks.setdefault(cid, (pos + 8, size))
        if cid == "ds64" and size >= 16:
            ds64_data = struct.unpack("<Q", reader.read(pos + 16, 8))[0]
        if cid == "data":
            break
        pos += 8 + size + (size & 1)
    return chunks, ds64_data


def _probe_wav(reader: _Reader, limits: AudioLimits) -> AudioInfo:
    name = reader.name
    if reader.size < 12:
        raise ParseError(
            f"{name}: truncated WAV ({reader.size} bytes, the RIFF header needs 12).",
            "The file is incomplete; re-export it.",
        )
    magic = reader.read(0, 4)
    chunks, ds64_data = _chunk_walk(reader, big=magic == b"RIFX")
    if "fmt " not in chunks:
        raise ParseError(
            f"{name}: WAV without a complete 'fmt ' chunk (truncated or corrupt).",
            "The file is incomplete; re-export it.",
        )
    fmt_off, fmt_size = chunks["fmt "]
    raw = reader.read(fmt_off, 16)
    if fmt_size < 16 or len(raw) < 16:
        raise ParseError(f"{name}: the WAV 'fmt ' chunk is truncated.", "The file is incomplete; re-export it.")
    endian = ">" if magic == b"RIFX" else "<"
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack(endian + "HHIIHH", raw)
    if rate == 0:
        raise InvalidInput(f"{name}: the header says the sample rate is 0 Hz.", "The file is corrupt; re-export it.")
    if channels == 0 or bits == 0 or block_align == 0:
        raise ParseError(
            f"{name}: WAV header with {channels} channels, {bits} bits, block size {block_align}.",
            "The file is corrupt; re-export it.",
        )
    if tag in (1, 3, 0xFFFE) and block_align != channels * ((bits + 7) // 8):
        raise ParseError(
            f"{name}: inconsistent WAV header (block size {block_align} for {channels} channels of {bits} bits).",
            "The file is corrupt; re-export it.",
        )
    if "data" not in chunks:
        raise ParseError(
            f"{name}: WAV without a data chunk (truncated before the samples).",
            "The file is incomplete; re-export it.",
        )
    data_off, declared = chunks["data"]
    if magic == b"RF64" and declared == 0xFFFFFFFF:
        declared = ds64_data
    if declared > limits.max_bytes:
        raise TooLarge(
            f"{name}: the header declares {declared} bytes of audio, over the {limits.max_bytes} limit.",
            "The header is corrupt or the recording is too long; split or re-export it.",
        )
    present = reader.size - data_off
    if declared > present:
        raise ParseError(
            f"{name}: truncated WAV (header declares {declared} bytes of audio, {present} present).",
            "The file is incomplete; re-export or copy it again.",
        )
    return AudioInfo("wav", rate, channels, declared // block_align, reader.size, f"tag{tag}/{bits}bit")


def _probe_soundfile(src: Source, reader: _Reader, fmt: str) -> AudioInfo:
    sf = _soundfile()
    try:
        i = sf.info(_sf_source(src))
    except Exception as exc:  # libsndfile raises RuntimeError/LibsndfileError on corrupt input
        raise ParseError(
            f"{reader.name}: cannot read the {fmt.upper()} header ({exc}).",
            "The file is corrupt or truncated; re-export it.",
        ) from None
    return AudioInfo(fmt, int(i.samplerate), int(i.channels), int(i.frames), reader.size, str(i.subtype))


def _probe_ffmpeg(src: Source, reader: _Reader, fmt: str) -> AudioInfo:
    ffprobe = _need_ffmpeg(reader.name, fmt, "ffprobe")
    with _as_path(src) as path:
        proc = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_streams",
                "-show_format",
                "-select_streams",
                "a:0",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    try:
        meta = json.loads(proc.stdout or "{}")
        stream = meta["streams"][0]
        dur = float(stream.get("duration") or meta.get("format", {}).get("duration") or 0)
        rate = int(stream["sample_rate"])
        channels = int(stream["channels"])
    except (KeyError, IndexError, ValueError, TypeError):
        raise ParseError(
            f"{reader.name}: ffprobe found no readable audio stream ({proc.stderr.strip()[:200]}).",
            "The file is corrupt or holds no audio.",
        ) from None
    return AudioInfo(fmt, rate, channels, int(dur * rate), reader.size, str(stream.get("codec_name", "")))


def _need_ffmpeg(name: str, fmt: str, tool: str = "ffmpeg") -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise MissingDependency(
            f"{name}: decoding {fmt.upper()} needs {tool} (part of ffmpeg), which is not installed.",
            "Install ffmpeg (apt-get install ffmpeg / brew install ffmpeg) or convert the file to WAV or FLAC.",
        )
    return exe


class _as_path:
    """Context manager giving a filesystem path for a path or bytes (bytes go to a temporary file)."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if isinstance(self.src, bytes | bytearray):
            import tempfile

            fd, name = tempfile.mkstemp(suffix=".audio")
            with os.fdopen(fd, "wb") as f:
                f.write(self.src)
            self.tmp = Path(name)
            return self.tmp
        return Path(self.src)

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def _soundfile():  # noqa: ANN202 - module object
    try:
        import soundfile
    except ImportError:
        raise MissingDependency.for_extra("Audio decoding", "voice", "soundfile") from None
    return soundfile


def _sf_source(src: Source) -> object:
    return io.BytesIO(bytes(src)) if isinstance(src, bytes | bytearray) else str(src)


def _decode(src: Source, info: AudioInfo, name: str) -> np.ndarray:
    """Decode to float32 (frames, channels)."""
    if info.format in SOUNDFILE_FORMATS:
        sf = _soundfile()
        try:
            data, _ = sf.read(_sf_source(src), dtype="float32", always_2d=True)
        except Exception as exc:
            raise ParseError(
                f"{name}: cannot decode the audio ({exc}).",
                "The file is corrupt or uses an unsupported encoding; re-export it as WAV.",
            ) from None
        return data
    ffmpeg = _need_ffmpeg(name, info.format)
    with _as_path(src) as path:
        proc = subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-nostdin",
                "-i",
                str(path),
                "-f",
                "f32le",
                "-acodec",
                "pcm_f32le",
                "-ac",
                str(info.channels),
                "-ar",
                str(info.sample_rate),
                "-",
            ],
            capture_output=True,
            timeout=3600,
        )
    if proc.returncode != 0:
        raise ParseError(
            f"{name}: ffmpeg could not decode it ({proc.stderr.decode(errors='replace')[:200]}).",
            "The file is corrupt; re-export it.",
        )
    return np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, info.channels).astype(np.float32)


def load_audio(
    src: Source, sr: int | None = None, mono: bool = True, limits: AudioLimits = DEFAULT_LIMITS
) -> tuple[np.ndarray, int]:
    """Probe, then decode `src` to float32. mono=True gives shape (n,), else (n, channels); `sr` resamples."""
    info = probe(src, limits)
    name = "<upload>" if isinstance(src, bytes | bytearray) else Path(src).name
    data = _decode(src, info, name)
    if data.size == 0:
        raise InvalidInput(f"{name}: the file holds no audio samples.", "Re-export or re-record it.")
    if not np.all(np.isfinite(data)):
        data = np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0)
    audio = _mono(data) if mono else data
    rate = info.sample_rate
    if sr is not None and sr != rate:
        audio = resample(audio, rate, sr)
        rate = sr
    return audio, rate


def _mono(data: np.ndarray) -> np.ndarray:
    """Average the channels of (n, channels) audio (column sums: faster than a strided mean)."""
    out = data[:, 0].astype(np.float32, copy=True)
    for c in range(1, data.shape[1]):
        out += data[:, c]
    return out / np.float32(data.shape[1])


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """High-quality resampling (soxr, which librosa also uses); works on (n,) or (n, channels)."""
    if sr_in == sr_out:
        return audio.astype(np.float32, copy=False)
    try:
        import soxr
    except ImportError:
        raise MissingDependency.for_extra("Resampling", "voice", "soxr") from None
    return soxr.resample(audio, sr_in, sr_out, quality="HQ").astype(np.float32)


def save_wav(path: str | os.PathLike[str], audio: np.ndarray, sr: int) -> Path:
    """Write float audio (clipped to [-1, 1]) as 16-bit PCM WAV, atomically."""
    sf = _soundfile()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    sf.write(str(tmp), np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
    os.replace(tmp, out)
    return out
