"""Format detection: turn each path the user gives (file, folder or archive) into ExportUnits — groups
of Sources that one parser reads — without extracting anything to disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from twin.errors import NotFound, UnsupportedFormat
from twin.ingest.archive import is_archive
from twin.ingest.archive_detect import archive_units
from twin.ingest.formats import HEAD_BYTES, ExportUnit, fixed_sources, format_of
from twin.ingest.source import Source
from twin.settings import IngestLimits

__all__ = ["ExportUnit", "detect"]


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
        return f.read(HEAD_BYTES)


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
    fmt = format_of(path.name, head)
    if fmt is None:
        return None if quiet else _unsupported(display, origin, empty=not head.strip())
    folder = path.parent.name if path.parent.name.lower().endswith(".mbox") else path.stem
    return ExportUnit(
        path=display,
        format=fmt,
        origin=origin,
        size=path.stat().st_size,
        sources=fixed_sources(
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
            sources=fixed_sources([Source.from_path(inner, "mbox", container=folder.name, folder=folder.name[:-5])]),
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
                yield from archive_units(f, f, limits)
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
                sources=fixed_sources(loose_eml),
            )


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
            yield from archive_units(p, p, limits)
        else:
            yield _file_unit(p, p, str(p), quiet=False) or _unsupported(str(p), p)
