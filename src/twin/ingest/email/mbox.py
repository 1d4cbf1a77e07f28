"""Streaming mbox reader (mboxo, mboxrd, mboxcl, Gmail Takeout, Apple Mail, Thunderbird).

Written here because the stdlib `mailbox.mbox` splits at every line starting with "From " (cpython
issue 93376: an unescaped "From " line in a body becomes a bogus second message) and indexes the
whole file up front. Here a "From " line separates messages only when it is at the start of the file
or after a blank line AND the next line looks like a header field ("Name: value"). The file is read
in bounded pieces of lines; only the first `max_message_bytes` of the current message are held in
memory (headers and text come before attachments, so a huge mail keeps what matters)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO, NamedTuple

from twin.ingest.email.message import parse_bytes, truncated
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source
from twin.settings import IngestLimits

_PIECE = 1 << 20  # most bytes read at once: a longer line arrives in several pieces
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]{1,76}:")
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_POSTMARK = re.compile(rb"^From \S*.*\d{1,2}:\d{2}(:\d{2})?.*\d{4}|^From \S+@\S+|^From - ")
_BLANK = (b"\n", b"\r\n", b"\r")


def looks_like_mbox(head: bytes) -> bool:
    """True when the first bytes are an mbox postmark line followed by a header line."""
    text = head.lstrip(b"\xef\xbb\xbf")
    if not text.startswith(b"From "):
        return False
    lines = text.split(b"\n", 2)
    if len(lines) < 2:
        return bool(_POSTMARK.match(lines[0]))
    return bool(_HEADER_LINE.match(lines[1])) or bool(_POSTMARK.match(lines[0]))


class Chunk(NamedTuple):
    offset: int  # where the chunk starts in the file
    data: bytes  # its bytes, at most max_bytes of them
    size: int  # its full size in the file (more than len(data) when it was cut)


def split(stream: IO[bytes], max_bytes: int | None = None) -> Iterator[Chunk]:
    """Each message as a Chunk, From line included; text before the first separator comes out as a
    chunk of its own. Uncut, the chunks concatenated are exactly the input. Memory stays within
    about max_bytes (when given) plus one read piece, whatever the line lengths."""
    cap = max_bytes if max_bytes is not None else 1 << 62
    parts: list[bytes] = []  # the current chunk's bytes, up to cap of them
    start = size = offset = 0  # where it starts, its full size, where the next piece starts
    prev_blank = at_line_start = True
    pending: bytes | None = None  # a possible separator, decided by the line after it
    readline = stream.readline
    while piece := readline(_PIECE):
        whole = piece.endswith(b"\n")
        if at_line_start and pending is not None:
            if _HEADER_LINE.match(piece):
                if size:
                    data, parts = b"".join(parts), []  # the pieces must not stay alive while it is parsed
                    yield Chunk(start, data, size)
                parts, start, size = [], offset - len(pending), 0
            size += len(pending)
            if size <= cap:
                parts.append(pending)
            else:
                _cut(parts, pending, size, cap)
            pending = None
        if at_line_start and prev_blank and whole and piece.startswith(b"From "):
            pending = piece
        else:
            size += len(piece)
            if size <= cap:
                parts.append(piece)
            else:
                _cut(parts, piece, size, cap)
        prev_blank = at_line_start and whole and piece in _BLANK
        at_line_start = whole
        offset += len(piece)
    if pending is not None:
        size += len(pending)
        if size <= cap:
            parts.append(pending)
        else:
            _cut(parts, pending, size, cap)
    if size:
        data, parts = b"".join(parts), []
        yield Chunk(start, data, size)


def _cut(parts: list[bytes], data: bytes, size: int, cap: int) -> None:
    """`data` took the chunk past the cap: keep what still fits (once), drop the rest."""
    room = cap - (size - len(data))
    if room > 0:
        parts.append(data[:room])


def parse(source: Source, limits: IngestLimits | None = None) -> Iterator[ParsedMessage | Skipped]:
    """Every message of an mbox source; Skipped for chunks that hold no message, and a
    message_truncated note for a message read only up to the size limit."""
    limits = limits or IngestLimits()
    with source.open() as raw:
        stream = io.BufferedReader(raw, _PIECE) if isinstance(raw, io.RawIOBase) else raw
        for chunk in split(stream, limits.max_message_bytes):
            result = _message(chunk.offset, chunk.data, source)
            yield result
            if chunk.size > len(chunk.data) and isinstance(result, ParsedMessage):
                yield truncated(result, len(chunk.data), chunk.size)


def _message(offset: int, chunk: bytes, source: Source) -> ParsedMessage | Skipped:
    locator = f"@{offset}"
    body = chunk
    if chunk.startswith(b"From "):
        nl = chunk.find(b"\n")
        body = chunk[nl + 1 :] if nl >= 0 else b""
    elif not _HEADER_LINE.match(chunk):
        if not chunk.strip():
            return Skipped("empty", locator, "blank bytes before the first message")
        return Skipped("not_a_message", locator, "text before the first 'From ' line is not a message")
    if b"\n>" in body or body.startswith(b">"):
        body = _ESCAPED_FROM.sub(rb"\1", body)
    return parse_bytes(body, locator, source.hints)
