"""Format detection: turn each path the user gives (file, folder or archive) into ExportUnits — groups
of Sources that one parser reads — without extracting anything to disk."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from twin.errors import NotFound, TwinError, UnsupportedFormat
from twin.ingest.archive import is_archive
from twin.ingest.source import Source
from twin.settings import IngestLimits

SUBTITLE_EXT = {".srt": "srt", ".vtt": "vtt"}
EMAIL_EXT = {".mbox": "mbox", ".mbx": "mbox", ".eml": "eml", ".msg": "msg", ".pst": "pst", ".ost": "pst"}
# Attachments that sit beside exports (WhatsApp media, Takeout extras); ignored quietly inside folders.
_QUIET_EXT = {
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
_HEAD = 8192


@dataclass
class ExportUnit:
    """What one report line describes: a file (or archive member, or maildir) read by one parser."""

    path: str  # shown to the user
    format: str
    origin: Path  # the user's file or folder; its read-only copy goes to exports/
    sources: Callable[[], Iterator[Source]] = field(default=lambda: iter(()))
    error: TwinError | None = None
    size: int | None = None


def _sniff_text_format(head: bytes) -> str | None:
    """Guess a format from the first bytes of a file with no telling extension."""
    from twin.ingest.email import looks_like_eml, looks_like_mbox
    from twin.ingest.whatsapp import sniff as looks_like_whatsapp

    if looks_like_mbox(head):
        return "mbox"
    text = _decode_head(head)
    if looks_like_whatsapp(text):
        return "whatsapp"
    if looks_like_eml(head):
        return "eml"
    if text.lstrip("\ufeff").startswith("WEBVTT"):
        return "vtt"
    return None


def _decode_head(head: bytes) -> str:
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if head.startswith(bom):
            return head.decode(enc, errors="ignore")
    return head.decode("utf-8", errors="ignore")


def _format_of(name: str, head: bytes) -> str | None:
    ext = PurePosixPath(name.lower()).suffix
    if ext in SUBTITLE_EXT:
        return SUBTITLE_EXT[ext]
    if ext in EMAIL_EXT:
        return EMAIL_EXT[ext]
    if ext in _QUIET_EXT:
        return None
    return _sniff_text_format(head)


def _unsupported(path: str, origin: Path, empty: bool = False) -> ExportUnit:
    if empty:
        error = UnsupportedFormat(
            f"'{path}' is empty: there is nothing in it to import.",
            "Export it again (WhatsApp: open the chat, More → Export chat; mail: save as .mbox or .eml) "
            "and import the new file.",
            code="empty_file",
        )
    else:
        error = UnsupportedFormat(
            f"'{path}' is not a format twin can import.",
            "Supported: WhatsApp .txt/.zip, .mbox, .eml, maildir, Takeout .zip/.tgz, .srt, .vtt, .msg, "
            "and .pst/.ost (with pip install 'twin[outlook]').",
        )
    return ExportUnit(path=path, format="unknown", origin=origin, error=error)


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(_HEAD)


def _file_unit(path: Path, origin: Path, display: str, quiet: bool) -> ExportUnit | None:
    try:
        head = _read_head(path)
    except OSError as exc:
        return ExportUnit(
            path=display,
            format="unknown",
            origin=origin,
            error=NotFound(f"Cannot read '{display}': {exc.strerror}.", "Check the path and permissions."),
        )
    fmt = _format_of(path.name, head)
    if fmt is None:
        return None if quiet else _unsupported(display, origin, empty=not head.strip())
    folder = path.parent.name if path.parent.name.lower().endswith(".mbox") else path.stem
    return ExportUnit(
        path=display,
        format=fmt,
        origin=origin,
        size=path.stat().st_size,
        sources=lambda: iter(
            [Source.from_path(path, fmt, container=origin.name if origin.is_file() else path.name, folder=folder)]
        ),
    )


def _maildir_unit(folder: Path, origin: Path, display: str) -> ExportUnit:
    def sources() -> Iterator[Source]:
        for sub in ("cur", "new"):
            d = folder / sub
            if not d.is_dir():
                continue
            for f in sorted(d.iterdir()):
                if f.is_file() and not f.is_symlink() and not f.name.startswith("."):
                    src = Source.from_path(f, "maildir", container=folder.name, folder=folder.name)
                    src.name = f"{folder.name}/{sub}/{f.name}"
                    yield src

    return ExportUnit(path=display, format="maildir", origin=origin, sources=sources)


def _is_maildir(folder: Path) -> bool:
    return (folder / "cur").is_dir() and (folder / "new").is_dir()


def _apple_mbox_file(folder: Path) -> Path | None:
    """Apple Mail exports a mailbox as 'Name.mbox/' holding a file called 'mbox'."""
    inner = folder / "mbox"
    return inner if folder.name.lower().endswith(".mbox") and inner.is_file() else None


def _dir_units(folder: Path, origin: Path, limits: IngestLimits) -> Iterator[ExportUnit]:
    if _is_maildir(folder):
        yield _maildir_unit(folder, origin, str(folder))
        return
    inner = _apple_mbox_file(folder)
    if inner is not None:
        yield ExportUnit(
            path=str(folder),
            format="mbox",
            origin=origin,
            size=inner.stat().st_size,
            sources=lambda: iter([Source.from_path(inner, "mbox", container=folder.name, folder=folder.name[:-5])]),
        )
        return
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if d.startswith(".") or d == "__MACOSX" or sub.is_symlink():
                continue
            if _is_maildir(sub) or _apple_mbox_file(sub) is not None:
                yield from _dir_units(sub, origin, limits)
            else:
                keep.append(d)
        dirnames[:] = keep
        loose_eml: list[Source] = []
        for name in sorted(filenames):
            f = here / name
            if name.startswith(".") or f.is_symlink() or here.name in ("cur", "new", "tmp"):
                continue
            if is_archive(f):
                yield from _archive_units(f, f, limits)
                continue
            unit = _file_unit(f, origin, str(f), quiet=True)
            if unit is not None and unit.format == "eml":
                loose_eml.extend(unit.sources())
            elif unit is not None:
                yield unit
        if loose_eml:
            # A folder of single messages is reported as one line, not one per file.
            yield ExportUnit(
                path=str(here / "*.eml") if len(loose_eml) > 1 else str(loose_eml[0].path),
                format="eml",
                origin=origin,
                sources=lambda srcs=tuple(loose_eml): iter(srcs),
            )


def _archive_units(path: Path, origin: Path, limits: IngestLimits) -> Iterator[ExportUnit]:
    from twin.ingest.archive_detect import archive_units

    yield from archive_units(path, origin, limits)


def detect(paths: list[Path], limits: IngestLimits) -> Iterator[ExportUnit]:
    """Expand user paths into export units; problems become units carrying an error (never raised)."""
    for p in paths:
        if not p.exists():
            yield ExportUnit(
                path=str(p),
                format="unknown",
                origin=p,
                error=NotFound(f"'{p}' does not exist.", "Check the path (quote names with spaces)."),
            )
        elif p.is_dir():
            units = list(_dir_units(p, p, limits))
            yield from units or [_unsupported(str(p), p)]
        elif is_archive(p):
            yield from _archive_units(p, p, limits)
        else:
            yield _file_unit(p, p, str(p), quiet=False)  # type: ignore[misc]
