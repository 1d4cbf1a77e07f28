"""One RFC 5322 message (bytes) → ParsedMessage: headers, body choice, cleaning, thread and flags."""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.feedparser import BytesFeedParser
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from twin.ingest.email.clean import clean_body
from twin.ingest.email.decode import decode_bytes, decode_header_value, fix_surrogates, unfold
from twin.ingest.email.headers import Envelope, build_record
from twin.ingest.record import ParsedMessage, Skipped


def parse_mime(raw: bytes) -> Message:
    """The stdlib feed parser with compat32 rather than policy.default: policy.default runs every header
    read through the header registry (~3 ms per message here), which alone caps an mbox at ~800 msg/s;
    headers are decoded below from their raw values with email.header/email.utils instead. Fed directly
    rather than through BytesParser, which copies the message into a StringIO (4 bytes a character)."""
    parser = BytesFeedParser(policy=policy.compat32)
    parser.feed(raw)
    return parser.close()


MAX_TEXT_PART_BYTES = 2_000_000  # bytes of one text part that are worth decoding
_FLAG_HEADERS = (
    "list-id",
    "list-unsubscribe",
    "list-post",
    "precedence",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-gmail-labels",
    "x-failed-recipients",
)


def parse_bytes(raw: bytes, locator: str, hints: dict[str, Any] | None = None) -> ParsedMessage | Skipped:
    """Parse one message; Skipped (with the reason) only when nothing usable can be read from it."""
    try:
        msg = parse_mime(raw)
        if not msg.keys():
            return Skipped("no_headers", locator, "the message has no header block")
        env = envelope(msg)
        plain, html = body_parts(msg)
        env.cleaned = clean_body(plain, html)
    except Exception as exc:  # noqa: BLE001 - one broken message never stops a mailbox
        return Skipped("undecodable_message", locator, f"{type(exc).__name__}: {exc}")
    return build_record(env, locator, hints or {})


def truncated(record: ParsedMessage, kept: int, size: int) -> Skipped:
    """Mark a message read only up to the size limit; the note counts it in the import report."""
    record.extra["truncated"] = {"kept_bytes": kept, "size_bytes": size}
    detail = f"read the first {kept} bytes" + (f" of {size}" if size > kept else "")
    return Skipped("message_truncated", record.locator, detail + ": headers and text kept, later attachments dropped")


def envelope(msg: Message) -> Envelope:
    """Every header field the record needs, decoded from the raw header values."""
    raw: dict[str, list[str]] = {}
    eight_bit = False
    for name, value in msg.raw_items():
        value = str(value)
        eight_bit = eight_bit or not value.isascii()
        raw.setdefault(name.lower(), []).append(value)
    charset = _first_charset(msg) if eight_bit else None  # raw 8-bit headers follow the body charset

    def text(name: str) -> str | None:
        values = raw.get(name)
        return decode_header_value(values[0], charset) if values else None

    def addrs(*names: str) -> list[tuple[str, str]]:
        return _addresses([v for n in names for v in raw.get(n, [])], charset)

    sender = addrs("from") or addrs("sender")
    sender_name, sender_addr = sender[0] if sender else (text("from") or "", "")
    ctype = msg.get_content_type()
    types = {p.get_content_type() for p in msg.walk()} if msg.is_multipart() else {ctype}
    return Envelope(
        sender_name=sender_name,
        sender_address=sender_addr,
        to=addrs("to"),
        cc=addrs("cc"),
        bcc=addrs("bcc"),
        delivered_to=addrs("delivered-to", "x-original-to"),
        subject=text("subject"),
        date=_date(text("date")),
        message_id=text("message-id"),
        in_reply_to=text("in-reply-to"),
        references=text("references"),
        headers={k: text(k) or "" for k in _FLAG_HEADERS if k in raw},
        content_type=ctype,
        report_type=str(msg.get_param("report-type") or "") if ctype == "multipart/report" else "",
        has_rfc822="message/rfc822" in types,
        has_dsn="message/delivery-status" in types,
    )


def _first_charset(msg: Message) -> str | None:
    for part in msg.walk():
        cs = part.get_content_charset()
        if cs:
            return cs
    return None


_SIMPLE_ADDR = re.compile(
    r"^\s*(?:([^\"<>,;:@()\\]*?)\s*<([^<>\s\"(),;:@]+@[^<>\s\"(),;:]+)>|"
    r"([^<>\s\"(),;:@]+@[^<>\s\"(),;:]+))\s*$"
)


def _addresses(values: list[str], charset: str | None) -> list[tuple[str, str]]:
    """(decoded display name, lowercase address) pairs; encoded words are decoded after splitting, so
    an encoded comma inside a name does not split it. Plain 'Name <a@b>' lists take a fast path; anything
    with quotes, comments or groups goes through email.utils.getaddresses."""
    if not values:
        return []
    pairs: list[tuple[str, str]] = []
    for value in values:
        value = unfold(fix_surrogates(value, charset))
        simple = [_SIMPLE_ADDR.match(item) for item in value.split(",")] if '"' not in value else [None]
        if all(simple):
            pairs.extend((m.group(1) or "", m.group(2) or m.group(3)) for m in simple if m)
            continue
        try:
            pairs.extend(getaddresses([value]))
        except Exception:  # noqa: BLE001
            continue
    out = []
    for name, addr in pairs:
        addr = addr.strip().lower()
        if not addr or addr == "<>" or ("@" not in addr and not name and " " in addr):
            continue
        out.append((decode_header_value(name, charset) if name else "", addr))
    return out


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def body_parts(msg: Message) -> tuple[str | None, str | None]:
    """(first text/plain, first text/html) of the message itself, skipping attachments and
    attached messages (forwarded-as-attachment and bounce originals are someone else's text)."""
    plain: str | None = None
    html: str | None = None
    for part in _inline_parts(msg):
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = _part_text(part)
        elif ctype == "text/html" and html is None:
            html = _part_text(part)
        if plain is not None and html is not None:
            break
    return plain, html


def _inline_parts(part: Message):  # type: ignore[no-untyped-def]
    if part.is_multipart():
        if part.get_content_type() in ("message/rfc822", "message/delivery-status", "text/rfc822-headers"):
            return
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    yield from _inline_parts(sub)
        return
    if part.get_content_maintype() != "text":
        return
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if disposition == "attachment" or (part.get_filename() and disposition != "inline"):
        return
    yield part


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64 / quoted-printable
        data = None
    if isinstance(data, bytes):
        return decode_bytes(data[:MAX_TEXT_PART_BYTES], part.get_content_charset())
    if isinstance(data, str):
        return data
    payload = part.get_payload()
    return payload if isinstance(payload, str) else ""
