"""Single-message files: .eml, and maildir messages (cur/new/tmp), one message per source."""

from __future__ import annotations

import re
from collections.abc import Iterator

from twin.ingest.email.message import parse_bytes, truncated
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source
from twin.settings import IngestLimits

_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]{1,76}:[^\n]*\r?\n", re.MULTILINE)
_KNOWN = re.compile(
    rb"^(from|to|subject|date|message-id|received|return-path|mime-version|content-type|delivered-to|"
    rb"x-[a-z0-9-]+|reply-to|cc|references|in-reply-to|dkim-signature|arc-[a-z-]+|authentication-results|"
    rb"x-gmail-labels|thread-topic|sender):",
    re.IGNORECASE | re.MULTILINE,
)
_MSGID = re.compile(r"<[^<>\s]+>")


def looks_like_eml(head: bytes) -> bool:
    """True when the first bytes are an RFC 5322 header block with at least two well-known fields."""
    text = head.lstrip(b"\xef\xbb\xbf")
    if not _HEADER_LINE.match(text) or text.startswith(b"From "):
        return False
    header_end = re.search(rb"\r?\n\r?\n", text)
    block = text[: header_end.start()] if header_end else text
    return len({m.group(1).lower() for m in _KNOWN.finditer(block)}) >= 2


def parse(source: Source, limits: IngestLimits | None = None) -> Iterator[ParsedMessage | Skipped]:
    """The one message of an .eml / maildir source; locator = its Message-ID, else the source name.
    Only the first max_message_bytes are read (a message_truncated note says when there was more)."""
    cap = (limits or IngestLimits()).max_message_bytes
    with source.open() as stream:
        raw = stream.read(cap + 1)
    cut = len(raw) > cap
    if cut:
        raw = raw[:cap]
    if raw.startswith(b"From "):  # some tools write a postmark line even into .eml files
        nl = raw.find(b"\n")
        raw = raw[nl + 1 :] if nl >= 0 else b""
    if not raw.strip():
        yield Skipped("empty", source.name, "the file is empty")
        return
    result = parse_bytes(raw, source.name, source.hints)
    if isinstance(result, ParsedMessage) and result.message_id and _MSGID.fullmatch(result.message_id):
        result.locator = result.message_id
    yield result
    if cut and isinstance(result, ParsedMessage):
        yield truncated(result, cap, source.size or 0)
