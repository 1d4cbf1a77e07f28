"""What an import is made of and how a file's format is told: ExportUnit (one report line) and the
sniffers that name a format from a file name and its first bytes. Shared by folder and archive
detection, so neither imports the other."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from twin.errors import TwinError
from twin.ingest.email import looks_like_eml, looks_like_mbox
from twin.ingest.source import Source
from twin.ingest.whatsapp import sniff as looks_like_whatsapp

SUBTITLE_EXT = {".srt": "srt", ".vtt": "vtt"}
EMAIL_EXT = {".mbox": "mbox", ".mbx": "mbox", ".eml": "eml", ".msg": "msg", ".pst": "pst", ".ost": "pst"}
# Attachments that sit beside exports (WhatsApp media, Takeout extras); ignored quietly inside folders.
QUIET_EXT = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".png",
        ".gif",
        ".webp",
        ".heic",
        ".mp4",
        ".mov",
        ".3gp",
        ".opus",
        ".ogg",
        ".m4a",
        ".mp3",
        ".aac",
        ".wav",
        ".pdf",
        ".vcf",
        ".webm",
        ".json",
        ".html",
        ".csv",
        ".ics",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
    }
)
HEAD_BYTES = 8192  # how much of a file the sniffers look at


def _no_sources() -> Iterator[Source]:
    return iter(())


@dataclass
class ExportUnit:
    """What one report line describes: a file (or archive member, or maildir) read by one parser."""

    path: str  # shown to the user
    format: str
    origin: Path  # the user's file or folder; its read-only copy goes to exports/
    sources: Callable[[], Iterator[Source]] = field(default=_no_sources)
    error: TwinError | None = None
    size: int | None = None


def fixed_sources(items: Iterable[Source]) -> Callable[[], Iterator[Source]]:
    """The `sources` of a unit whose sources are known up front."""
    frozen = tuple(items)

    def sources() -> Iterator[Source]:
        return iter(frozen)

    return sources


def sniff_text_format(head: bytes) -> str | None:
    """Guess a format from the first bytes of a file with no telling extension."""
    if looks_like_mbox(head):
        return "mbox"
    text = decode_head(head)
    if looks_like_whatsapp(text):
        return "whatsapp"
    if looks_like_eml(head):
        return "eml"
    if text.lstrip("\ufeff").startswith("WEBVTT"):
        return "vtt"
    return None


def decode_head(head: bytes) -> str:
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if head.startswith(bom):
            return head.decode(enc, errors="ignore")
    return head.decode("utf-8", errors="ignore")


def format_of(name: str, head: bytes) -> str | None:
    """The parser for a file called `name` starting with `head`; None for attachments and unknown files."""
    ext = PurePosixPath(name.lower()).suffix
    if ext in SUBTITLE_EXT:
        return SUBTITLE_EXT[ext]
    if ext in EMAIL_EXT:
        return EMAIL_EXT[ext]
    if ext in QUIET_EXT:
        return None
    return sniff_text_format(head)
