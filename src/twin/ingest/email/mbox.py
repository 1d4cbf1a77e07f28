"""Streaming mbox reader (mboxo, mboxrd, mboxcl, Gmail Takeout, Apple Mail, Thunderbird).

Written here because the stdlib `mailbox.mbox` splits at every line starting with "From " (cpython
issue 93376: an unescaped "From " line in a body becomes a bogus second message) and indexes the
whole file up front. Here a "From " line separates messages only when it is at the start of the file
or after a blank line AND the next line looks like a header field ("Name: value"). The file is read
line by line; only the current message is held in memory."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO

from twin.ingest.email.message import parse_bytes
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
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


def split(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(byte offset, raw chunk) for each message, From line included; concatenated, the chunks are
    exactly the input. Text before the first separator comes out as a chunk of its own."""
    buf: list[bytes] = []
    start = 0
    offset = 0
    prev_blank = True
    pending: bytes | None = None
    pending_at = 0
    for line in stream:
        if pending is not None:
            if _HEADER_LINE.match(line):
                if buf:
                    yield start, b"".join(buf)
                buf = [pending]
                start = pending_at
            else:
                buf.append(pending)
            pending = None
        if prev_blank and line.startswith(b"From "):
            pending, pending_at = line, offset
        else:
            buf.append(line)
        prev_blank = line in _BLANK
        offset += len(line)
    if pending is not None:
        buf.append(pending)
    if buf:
        yield start, b"".join(buf)


def parse(source: Source) -> Iterator[ParsedMessage | Skipped]:
    """Every message of an mbox source; Skipped for chunks that hold no message."""
    with source.open() as raw:
        stream = io.BufferedReader(raw, 1 << 20) if isinstance(raw, io.RawIOBase) else raw
        for offset, chunk in split(stream):
            yield _message(offset, chunk, source)


def _message(offset: int, chunk: bytes, source: Source) -> ParsedMessage | Skipped:
    locator = f"@{offset}"
    if len(chunk) > MAX_MESSAGE_BYTES:
        return Skipped("message_too_large", locator, f"{len(chunk)} bytes (limit {MAX_MESSAGE_BYTES})")
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
