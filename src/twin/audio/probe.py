"""Header validation before decoding: `probe` reads only the container header and checks it against
limits (size, sample rate, channels, declared duration), so an absurd, truncated or over-long file
fails with a clear TwinError before a single sample is decoded."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass

from pydantic import BaseModel, Field

from twin.audio import deps
from twin.audio.source import Reader, Source, as_path, library_reason, soundfile_source
from twin.audio.wav_header import probe_wav
from twin.errors import InvalidInput, ParseError, TooLarge, UnsupportedFormat


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
SUPPORTED_HINT = "Supported: WAV, FLAC, OGG, MP3; M4A, WebM and Opus with ffmpeg installed."


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
    raise UnsupportedFormat(f"{name}: not a recognised audio file (unknown header {head[:4]!r}).", SUPPORTED_HINT)


def probe(src: Source, limits: AudioLimits = DEFAULT_LIMITS, name: str | None = None) -> AudioInfo:
    """Validate the header of `src` (a path or bytes) against `limits` and describe it; never decodes.
    `name` is how errors refer to the file (default: its file name; bytes: "the uploaded audio")."""
    with Reader(src, name) as reader:
        if reader.size == 0:
            raise InvalidInput(f"{reader.name}: the file is empty.", "Re-export or re-record it.")
        if reader.size > limits.max_bytes:
            raise TooLarge(
                f"{reader.name}: {reader.size} bytes is over the {limits.max_bytes}-byte limit.",
                "Split the recording into smaller files.",
            )
        fmt = sniff_format(reader.read(0, 4096), reader.name)
        if fmt == "wav":
            info = probe_wav(reader, limits)
        elif fmt in SOUNDFILE_FORMATS:
            info = _probe_soundfile(src, reader, fmt)
        else:
            info = _probe_ffmpeg(src, reader, fmt)
    check_limits(info, limits, reader.name)
    return info


def check_limits(info: AudioInfo, limits: AudioLimits, name: str) -> None:
    """Raise a clear error when a header's numbers are absurd or over the limits."""
    if info.sample_rate <= 0:
        raise InvalidInput(
            f"{name}: the header says the sample rate is {info.sample_rate} Hz.", "The file is corrupt; re-export it."
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
            f"{name}: {info.duration_s:.1f} s is longer than the {limits.max_duration_s:g} s limit.",
            "Split the recording into shorter files.",
        )


def _probe_soundfile(src: Source, reader: Reader, fmt: str) -> AudioInfo:
    sf = deps.soundfile()
    try:
        i = sf.info(soundfile_source(src))
    except Exception as exc:  # libsndfile raises RuntimeError/LibsndfileError on corrupt input
        raise ParseError(
            f"{reader.name}: cannot read the {fmt.upper()} header ({library_reason(exc)}).",
            "The file is corrupt or truncated; re-export it.",
        ) from None
    return AudioInfo(fmt, int(i.samplerate), int(i.channels), int(i.frames), reader.size, str(i.subtype))


def _probe_ffmpeg(src: Source, reader: Reader, fmt: str) -> AudioInfo:
    ffprobe = deps.ffmpeg_tool(reader.name, fmt, "ffprobe")
    args = ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", "-select_streams", "a:0"]
    with as_path(src) as path:
        proc = subprocess.run([ffprobe, *args, str(path)], capture_output=True, text=True, timeout=60)
    try:
        meta = json.loads(proc.stdout or "{}")
        stream = meta["streams"][0]
        dur = float(stream.get("duration") or meta.get("format", {}).get("duration") or 0)
        rate = int(stream["sample_rate"])
        channels = int(stream["channels"])
    except (KeyError, IndexError, ValueError, TypeError):
        # ffprobe's stderr names the server-side path; the user only needs to know the file is unreadable
        raise ParseError(
            f"{reader.name}: no readable audio stream in this {fmt.upper()} file.",
            "The file is corrupt or holds no audio; re-export it.",
        ) from None
    return AudioInfo(fmt, rate, channels, int(dur * rate), reader.size, str(stream.get("codec_name", "")))
