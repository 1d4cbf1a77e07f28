"""Text sources read line by line with a cap on line length, so one giant line (a pasted blob, a file
with no newlines) never sits in memory whole: the first characters of such a line are kept, the rest
is read and dropped, and the parser decides what to skip."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import IO

from twin.ingest.source import Source

_PEEK = 1 << 16


class LongLine(str):
    """The first characters of a line that was longer than the cap; the rest was not kept."""

    __slots__ = ()


def open_text(source: Source, sniff_bytes: int = _PEEK) -> IO[str]:
    """A text stream over the source with universal newlines, in the encoding its first `sniff_bytes` show."""
    buffered = io.BufferedReader(_Raw(source.open()), sniff_bytes)
    head = buffered.peek(sniff_bytes)
    return io.TextIOWrapper(buffered, encoding=encoding_of(head), errors="replace", newline=None)


class _Raw(io.RawIOBase):
    """Any binary stream as the raw stream io.BufferedReader expects."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def encoding_of(head: bytes) -> str:
    """The encoding of a text file from its first bytes: a BOM, else UTF-8 when it decodes, else a guess."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    return guess_encoding(head)


def guess_encoding(data: bytes) -> str:
    """A legacy code page for bytes that are not UTF-8. charset-normalizer ranks by "chaos", which
    on short texts often ties between Western and Baltic/Central-European code pages. Among the
    near-ties Windows-1252 (by far the most common legacy encoding of subtitles and chats) wins
    unless another code page reads clearly more like a language (coherence)."""
    from charset_normalizer import from_bytes

    results = list(from_bytes(data))
    if not results:
        return "cp1252"
    floor = min(r.chaos for r in results)
    near = [r for r in results if r.chaos <= floor + 0.05]
    best = max(near, key=lambda r: r.coherence)
    western = next((r for r in near if r.encoding == "cp1252"), None)
    if western is not None and western.coherence + 0.1 > best.coherence:
        return "cp1252"
    return best.encoding


def bounded_lines(stream: IO[str], max_chars: int, chunk: int = 1 << 16) -> Iterator[str]:
    """Every line of the stream, without its newline; a line longer than max_chars comes out as a
    LongLine holding its first max_chars characters. Reads fixed-size chunks and splits them in C,
    so memory stays within max_chars plus one chunk whatever the input, at full speed."""
    head, long = "", False  # the start of the current line (from earlier chunks); is it too long already?
    while data := stream.read(chunk):
        parts = data.split("\n")
        rest = parts.pop()  # the unfinished end of this chunk
        if parts:
            if long:
                parts[0] = LongLine(head)
            elif head:
                parts[0] = head + parts[0]
            if max(map(len, parts)) > max_chars:
                parts = [LongLine(p[:max_chars]) if len(p) > max_chars else p for p in parts]
            yield from parts
            head, long = "", False
        if not long:
            head += rest
            if len(head) > max_chars:
                head, long = head[:max_chars], True
    if long:
        yield LongLine(head)
    elif head:
        yield head
