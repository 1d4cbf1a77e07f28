"""Outlook .msg (extract-msg) and .pst/.ost (libpff-python), both from the `outlook` extra."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from email.parser import Parser
from email.policy import compat32
from typing import Any

from twin.errors import MissingDependency, ParseError, UnsupportedFormat
from twin.ingest.email.clean import clean_body
from twin.ingest.email.decode import decode_bytes
from twin.ingest.email.headers import build_record
from twin.ingest.email.message import MAX_TEXT_PART_BYTES, envelope
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source
from twin.settings import IngestLimits

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PST_MAGIC = b"!BDN"
EXPORT_HINT = (
    "Export the mailbox as mbox or .eml instead: in Outlook use File → Open & Export → Import/Export → "
    "'Export to a file' (or drag messages to a folder to get .msg/.eml files); on Linux/macOS run "
    "`readpst -r -o OUTDIR mailbox.pst` (Debian/Ubuntu package 'pst-utils') and import OUTDIR."
)


def parse_msg(source: Source, limits: IngestLimits | None = None) -> Iterator[ParsedMessage | Skipped]:
    """One Outlook .msg file (OLE2 compound file) → one message. A .msg larger than max_message_bytes
    is skipped: a compound file cannot be read in part."""
    try:
        import extract_msg
    except ImportError as exc:
        raise MissingDependency.for_extra("Reading Outlook .msg files", "outlook", "extract_msg") from exc
    cap = (limits or IngestLimits()).max_message_bytes
    with source.open() as stream:
        data = stream.read(cap + 1)
    if len(data) > cap:
        yield Skipped(
            "message_too_large",
            source.name,
            f"larger than {cap} bytes (TWIN_INGEST_MAX_MESSAGE_BYTES); save it as .eml to import its text",
        )
        return
    if not data.startswith(OLE_MAGIC):
        raise ParseError(f"'{source.name}' is not an Outlook .msg file (no OLE2 signature).", EXPORT_HINT)
    try:
        msg = extract_msg.openMsg(data)
    except Exception as exc:  # noqa: BLE001 - extract-msg raises many types on damaged files
        raise ParseError(f"'{source.name}' could not be read as an Outlook .msg file: {exc}", EXPORT_HINT) from exc
    try:
        yield _msg_record(msg, source)
    finally:
        msg.close()


def _msg_record(msg: Any, source: Source) -> ParsedMessage | Skipped:
    header = msg.header if isinstance(getattr(msg, "header", None), Message) else Message()
    for name, value in (
        ("From", msg.sender),
        ("To", msg.to),
        ("Cc", msg.cc),
        ("Subject", msg.subject),
        ("Message-ID", msg.messageId),
        ("In-Reply-To", getattr(msg, "inReplyTo", None)),
    ):
        if value and name not in header:
            header[name] = str(value)
    env = envelope(header)
    if env.date is None and isinstance(msg.date, datetime):
        env.date = msg.date
    html = msg.htmlBody
    html_text = decode_bytes(html, None) if isinstance(html, bytes) else html
    env.cleaned = clean_body(msg.body, html_text)
    return build_record(env, env.message_id or source.name, source.hints)


def parse_pst(source: Source, limits: IngestLimits | None = None) -> Iterator[ParsedMessage | Skipped]:
    """Every message of an Outlook .pst/.ost, folder by folder (the folder name feeds the sent hint)."""
    try:
        import pypff
    except ImportError as exc:
        raise UnsupportedFormat(
            f"'{source.name}' is an Outlook data file (.pst), which needs libpff-python (pip install 'twin[outlook]').",
            EXPORT_HINT,
        ) from exc
    with _seekable(source) as stream:
        if stream.read(4) != PST_MAGIC:
            raise ParseError(f"'{source.name}' is not an Outlook .pst/.ost file (no !BDN signature).", EXPORT_HINT)
        stream.seek(0)
        pst = pypff.file()
        try:
            pst.open_file_object(stream)
        except Exception as exc:  # noqa: BLE001
            raise ParseError(f"'{source.name}' could not be opened as a .pst file: {exc}", EXPORT_HINT) from exc
        try:
            yield from _walk_folder(pst.get_root_folder(), "", source)
        finally:
            pst.close()


class _seekable:
    """The source as a seekable stream: itself when it is, else spooled to a temporary file."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.stream: Any = None

    def __enter__(self) -> Any:
        stream = self.source.open()
        if getattr(stream, "seekable", lambda: False)():
            self.stream = stream
            return stream
        spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
        with stream:
            shutil.copyfileobj(stream, spool, 1 << 20)
        spool.seek(0)
        self.stream = spool
        return spool

    def __exit__(self, *exc: object) -> None:
        self.stream.close()


def _walk_folder(folder: Any, path: str, source: Source) -> Iterator[ParsedMessage | Skipped]:
    name = folder.name or ""
    here = f"{path}/{name}" if path else name
    for i in range(folder.number_of_sub_messages):
        locator = f"{here}#{i}"
        try:
            item = folder.get_sub_message(i)
            yield _pst_record(item, locator, {**source.hints, "folder": name or source.hints.get("folder")})
        except Exception as exc:  # noqa: BLE001 - one damaged item never stops the mailbox
            yield Skipped("undecodable_message", locator, f"{type(exc).__name__}: {exc}")
    for i in range(folder.number_of_sub_folders):
        yield from _walk_folder(folder.get_sub_folder(i), here, source)


def _pst_record(item: Any, locator: str, hints: dict[str, Any]) -> ParsedMessage:
    headers = item.transport_headers or ""
    header = Parser(policy=compat32).parsestr(headers, headersonly=True) if headers.strip() else Message()
    if "From" not in header and item.sender_name:
        header["From"] = item.sender_name
    if "Subject" not in header and item.subject:
        header["Subject"] = item.subject
    env = envelope(header)
    if env.date is None:
        when = item.delivery_time or item.client_submit_time
        if isinstance(when, datetime):
            env.date = when if when.tzinfo else when.replace(tzinfo=UTC)
    plain = item.plain_text_body
    html = item.html_body
    env.cleaned = clean_body(
        decode_bytes(plain[:MAX_TEXT_PART_BYTES], None) if isinstance(plain, bytes) else plain,
        decode_bytes(html[:MAX_TEXT_PART_BYTES], None) if isinstance(html, bytes) else html,
    )
    return build_record(env, env.message_id or locator, hints)


__all__ = ["EXPORT_HINT", "parse_msg", "parse_pst"]
