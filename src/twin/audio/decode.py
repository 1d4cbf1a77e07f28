"""Decoding: probe the header first, then decode block by block (soundfile for WAV/FLAC/OGG/MP3/Opus,
ffmpeg for M4A/WebM), mixing to mono and resampling as the blocks go by, so memory holds the result
(at the wanted rate and channel count) and one block — never the whole file at its native rate.
`start_s`/`max_s` decode only a window: soundfile seeks, ffmpeg gets `-ss`/`-t`."""

from __future__ import annotations

import io
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.audio import deps
from twin.audio.channels import to_mono
from twin.audio.probe import DEFAULT_LIMITS, SOUNDFILE_FORMATS, AudioInfo, AudioLimits, probe
from twin.audio.resample import StreamResampler
from twin.audio.source import Source, as_path, display_name, library_reason, soundfile_source
from twin.errors import InvalidInput, ParseError

BLOCK_FRAMES = 1 << 16
_CORRUPT_HINT = "The file is corrupt or uses an unsupported encoding; re-export it as WAV."


@dataclass
class AudioStream:
    """A decoding in progress: what the header said, the rate of the blocks, and the blocks."""

    info: AudioInfo
    sample_rate: int
    channels: int
    blocks: Iterator[np.ndarray]


def open_audio(
    src: Source,
    sr: int | None = None,
    mono: bool = True,
    limits: AudioLimits = DEFAULT_LIMITS,
    *,
    name: str | None = None,
    start_s: float = 0.0,
    max_s: float | None = None,
) -> AudioStream:
    """Probe now (errors are raised here), decode lazily: float32 blocks, (n,) when mono else (n, ch)."""
    label = display_name(src, name)
    info = probe(src, limits, label)
    start = max(0, int(start_s * info.sample_rate))
    frames = None if max_s is None else max(0, int(round(max_s * info.sample_rate)))
    native = _native_blocks(src, info, label, start, frames)
    rate = sr or info.sample_rate
    channels = 1 if mono else info.channels
    return AudioStream(info, rate, channels, _convert(native, info.sample_rate, rate, mono, channels))


def load_audio(
    src: Source,
    sr: int | None = None,
    mono: bool = True,
    limits: AudioLimits = DEFAULT_LIMITS,
    *,
    name: str | None = None,
    start_s: float = 0.0,
    max_s: float | None = None,
) -> tuple[np.ndarray, int]:
    """Probe, then decode `src` to float32: mono=True gives (n,), else (n, channels); `sr` resamples;
    `start_s`/`max_s` decode only that window. Errors name the file by `name` (default: its file name)."""
    stream = open_audio(src, sr, mono, limits, name=name, start_s=start_s, max_s=max_s)
    info = stream.info
    expected = info.frames - min(info.frames, int(start_s * info.sample_rate))
    if max_s is not None:
        expected = min(expected, int(max_s * info.sample_rate) + 1)
    tail = () if mono else (stream.channels,)
    audio = _collect(stream.blocks, int(expected * stream.sample_rate / info.sample_rate) + 64, tail)
    if audio.shape[0] == 0:
        raise InvalidInput(f"{display_name(src, name)}: the file holds no audio samples.", "Re-export or re-record it.")
    return audio, stream.sample_rate


def _collect(blocks: Iterator[np.ndarray], expected: int, tail: tuple[int, ...]) -> np.ndarray:
    """Concatenate blocks of shape (n, *tail) into one preallocated buffer (grown only when the header
    undercounted)."""
    out = np.empty((expected, *tail), dtype=np.float32)
    n = 0
    for block in blocks:
        if n + len(block) > len(out):
            grown = np.empty((max(2 * len(out), n + len(block)), *out.shape[1:]), dtype=np.float32)
            grown[:n] = out[:n]
            out = grown
        out[n : n + len(block)] = block
        n += len(block)
    return out[:n] if n > len(out) // 2 else out[:n].copy()  # don't pin a mostly unused buffer


def _convert(
    blocks: Iterator[np.ndarray], rate_in: int, rate_out: int, mono: bool, channels: int
) -> Iterator[np.ndarray]:
    resampler = StreamResampler(rate_in, rate_out, channels)
    for block in blocks:
        if not np.all(np.isfinite(block)):
            block = np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0)
        out = resampler.process(to_mono(block) if mono else block)
        if len(out):
            yield out
    tail = resampler.flush()
    if len(tail):
        yield tail


def _native_blocks(src: Source, info: AudioInfo, name: str, start: int, frames: int | None) -> Iterator[np.ndarray]:
    if info.format in SOUNDFILE_FORMATS:
        return _soundfile_blocks(src, name, start, frames)
    return _ffmpeg_blocks(src, info, name, start, frames)


def _soundfile_blocks(src: Source, name: str, start: int, frames: int | None) -> Iterator[np.ndarray]:
    sf = deps.soundfile()
    try:
        with sf.SoundFile(soundfile_source(src)) as f:
            if start:
                _skip(f, start)
            left = frames
            while left is None or left > 0:
                block = f.read(BLOCK_FRAMES if left is None else min(BLOCK_FRAMES, left), "float32", always_2d=True)
                if not len(block):
                    return
                if left is not None:
                    left -= len(block)
                yield block
    except (RuntimeError, ValueError, sf.SoundFileError) as exc:  # LibsndfileError is a RuntimeError
        raise ParseError(f"{name}: cannot decode the audio ({library_reason(exc)}).", _CORRUPT_HINT) from None


def _skip(f: Any, start: int) -> None:
    """Seek to frame `start`, reading and dropping blocks where the format cannot seek."""
    try:
        f.seek(start)
        return
    except (RuntimeError, ValueError):
        pass
    left = start
    while left > 0:
        got = len(f.read(min(BLOCK_FRAMES, left), "float32", always_2d=True))
        if not got:
            return
        left -= got


def _ffmpeg_blocks(src: Source, info: AudioInfo, name: str, start: int, frames: int | None) -> Iterator[np.ndarray]:
    ffmpeg = deps.ffmpeg_tool(name, info.format)
    window = ["-ss", f"{start / info.sample_rate:.6f}"] if start else []
    if frames is not None:
        window += ["-t", f"{frames / info.sample_rate:.6f}"]
    out = ["-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(info.channels), "-ar", str(info.sample_rate), "-"]
    width = 4 * info.channels
    with as_path(src) as path:
        cmd = [ffmpeg, "-v", "error", "-nostdin", *window, "-i", str(path), *out]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            pending = b""
            while chunk := proc.stdout.read(BLOCK_FRAMES * width):
                pending += chunk
                usable = len(pending) - len(pending) % width
                if usable:
                    yield np.frombuffer(pending[:usable], dtype="<f4").reshape(-1, info.channels).copy()
                    pending = pending[usable:]
            if proc.wait(timeout=60) != 0:
                # ffmpeg's own message names the server-side path; say what it means for the user's file
                raise ParseError(f"{name}: ffmpeg could not decode the audio.", _CORRUPT_HINT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()


def decode_bytes(data: bytes, name: str = "the engine's reply") -> tuple[np.ndarray, int]:
    """Decode a whole WAV/MP3/FLAC/OGG reply held in memory (an engine's answer) to mono float32."""
    if data[:4] == b"RIFF" and data[4:8] == b"\xff\xff\xff\xff":
        return decode_streamed_wav(data, name)
    sf = deps.soundfile()
    try:
        audio, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError
        raise InvalidInput(
            f"{name} could not be decoded as audio ({library_reason(exc)}).",
            "The engine returned something that is not WAV/MP3/FLAC/OGG; check its media type setting.",
        ) from None
    return to_mono(audio), int(sr)


def decode_streamed_wav(data: bytes, name: str = "the engine's reply") -> tuple[np.ndarray, int]:
    """A WAV whose header says 'unknown length': read the fmt chunk, take everything after 'data'."""
    pos = data.find(b"fmt ")
    idx = data.find(b"data", 12)
    if pos < 0 or idx < 0 or len(data) < pos + 24:
        raise InvalidInput(f"{name} is a streamed WAV without fmt/data chunks.", "The engine's stream is not WAV.")
    channels, rate = struct.unpack("<HI", data[pos + 10 : pos + 16])
    bits = struct.unpack("<H", data[pos + 22 : pos + 24])[0]
    if bits != 16 or channels < 1:
        raise InvalidInput(f"{name} uses {bits}-bit samples in {channels} channels.", "Ask the engine for 16-bit PCM.")
    body = data[idx + 8 :]
    body = body[: len(body) - len(body) % (2 * channels)]
    pcm = np.frombuffer(body, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    return to_mono(pcm.reshape(-1, channels)), int(rate)
