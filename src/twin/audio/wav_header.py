"""The RIFF/RIFX/RF64 chunk walk that validates a WAV header before any sample is decoded.

Written here because libsndfile silently accepts truncated data chunks and absurd declared sizes; we
want those reported, per file, before decoding."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from twin.errors import InvalidInput, ParseError, TooLarge

if TYPE_CHECKING:
    from twin.audio.probe import AudioInfo, AudioLimits
    from twin.audio.source import Reader

_REEXPORT = "The file is incomplete; re-export it."


def _chunk_walk(reader: Reader, big: bool) -> tuple[dict[str, tuple[int, int]], int]:
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


def _format_chunk(reader: Reader, chunks: dict[str, tuple[int, int]], endian: str) -> tuple[int, ...]:
    """(tag, channels, rate, byte_rate, block_align, bits), checked for consistency."""
    name = reader.name
    if "fmt " not in chunks:
        raise ParseError(f"{name}: WAV without a complete 'fmt ' chunk (truncated or corrupt).", _REEXPORT)
    fmt_off, fmt_size = chunks["fmt "]
    raw = reader.read(fmt_off, 16)
    if fmt_size < 16 or len(raw) < 16:
        raise ParseError(f"{name}: the WAV 'fmt ' chunk is truncated.", _REEXPORT)
    tag, channels, rate, byte_rate, block_align, bits = struct.unpack(endian + "HHIIHH", raw)
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
    return tag, channels, rate, byte_rate, block_align, bits


def probe_wav(reader: Reader, limits: AudioLimits) -> AudioInfo:
    from twin.audio.probe import AudioInfo

    name = reader.name
    if reader.size < 12:
        raise ParseError(f"{name}: truncated WAV ({reader.size} bytes, the RIFF header needs 12).", _REEXPORT)
    magic = reader.read(0, 4)
    chunks, ds64_data = _chunk_walk(reader, big=magic == b"RIFX")
    tag, channels, rate, _byte_rate, block_align, bits = _format_chunk(reader, chunks, ">" if magic == b"RIFX" else "<")
    if "data" not in chunks:
        raise ParseError(f"{name}: WAV without a data chunk (truncated before the samples).", _REEXPORT)
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
