"""Export units inside a .zip/.tgz: WhatsApp chats, Takeout mailboxes, maildirs, .eml and subtitles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from twin.errors import TwinError
from twin.ingest.archive import SafeArchive
from twin.ingest.formats import HEAD_BYTES, ExportUnit, fixed_sources, format_of
from twin.ingest.source import Source
from twin.settings import IngestLimits

_NESTED = (".zip", ".tgz", ".tar", ".tar.gz")


def _member_source(path: Path, name: str, fmt: str, limits: IngestLimits, folder: str) -> Source:
    # Each source re-opens the archive so units can be read one after another, each with its own budget.
    def opener() -> IO[bytes]:
        archive = SafeArchive(path, limits)
        stream = archive.open_member(name)
        _close = stream.close

        def close() -> None:
            _close()
            archive.close()

        stream.close = close  # type: ignore[method-assign]
        return stream

    return Source(
        name=f"{path.name}!{name}",
        format=fmt,
        opener=opener,
        container=path.name,
        hints={"folder": folder, "member": name},
    )


def _many_members(
    path: Path, names: list[str], fmt: str, limits: IngestLimits, folder: str
) -> Callable[[], Iterator[Source]]:
    """The sources of a unit made of many members (a maildir, loose .eml files): the archive is opened
    and checked once for all of them rather than once per message (a .tgz is decompressed to list its
    members), and they share one byte budget."""

    def sources() -> Iterator[Source]:
        with SafeArchive(path, limits) as archive:
            for name in names:
                yield Source(
                    name=f"{path.name}!{name}",
                    format=fmt,
                    opener=partial(archive.open_member, name),
                    container=path.name,
                    hints={"folder": folder, "member": name},
                )

    return sources


def _classify(archive: SafeArchive) -> tuple[dict[str, list[str]], list[str]]:
    """Map member names to formats; maildir messages are grouped by their maildir folder."""
    by_format: dict[str, list[str]] = defaultdict(list)
    nested = []
    for m in archive.members:
        p = PurePosixPath(m.name)
        lower = m.name.lower()
        if lower.endswith(_NESTED):
            nested.append(m.name)
            continue
        if len(p.parts) >= 2 and p.parts[-2] in ("cur", "new"):
            by_format["maildir:" + str(p.parent.parent)].append(m.name)
            continue
        with archive.open_member(m.name) as f:
            head = f.read(HEAD_BYTES)
        fmt = format_of(p.name, head)
        if fmt is None and p.name == "mbox" and p.parent.name.lower().endswith(".mbox"):
            fmt = "mbox"  # Apple Mail folder inside an archive
        if fmt is not None:
            by_format[fmt].append(m.name)
    return by_format, nested


def archive_units(path: Path, origin: Path, limits: IngestLimits) -> Iterator[ExportUnit]:
    try:
        with SafeArchive(path, limits) as archive:
            by_format, nested = _classify(archive)
            sizes = {m.name: m.size for m in archive.members}
    except TwinError as exc:
        yield ExportUnit(path=str(path), format="archive", origin=origin, error=exc)
        return
    if not by_format:
        hint = "It holds no WhatsApp chat, mailbox, .eml or subtitle file."
        if nested:
            hint += " It holds other archives: extract it once and import those."
        yield ExportUnit(
            path=str(path),
            format="archive",
            origin=origin,
            error=TwinError(f"Nothing to import in '{path.name}'.", hint, code="empty_archive"),
        )
        return
    for key, names in sorted(by_format.items()):
        if key.startswith("maildir:"):
            folder = key.split(":", 1)[1]
            yield ExportUnit(
                path=f"{path}!{folder}",
                format="maildir",
                origin=origin,
                sources=_many_members(path, names, "maildir", limits, PurePosixPath(folder).name),
            )
            continue
        if key == "eml":
            yield ExportUnit(
                path=f"{path}!*.eml",
                format="eml",
                origin=origin,
                sources=_many_members(path, names, "eml", limits, ""),
            )
            continue
        for name in names:
            folder = PurePosixPath(name).stem if PurePosixPath(name).name != "mbox" else PurePosixPath(name).parent.stem
            yield ExportUnit(
                path=f"{path}!{name}",
                format=key,
                origin=origin,
                size=sizes.get(name),
                sources=fixed_sources([_member_source(path, name, key, limits, folder)]),
            )
