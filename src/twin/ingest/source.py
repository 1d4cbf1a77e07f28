"""A Source is one readable unit handed to a parser: a plain file, or a member of an archive read as
a stream (never extracted to disk)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


@dataclass(slots=True)
class Source:
    name: str  # what the user sees: "chat.zip!_chat.txt", "Sent.mbox"
    format: str  # parser to use: whatsapp, mbox, eml, maildir, srt, vtt, msg, pst
    opener: Callable[[], IO[bytes]]  # opens a fresh binary stream (size-limited for archive members)
    size: int | None = None  # bytes, when known before reading
    container: str = ""  # file name of the export the user gave ("WhatsApp Chat - Priya.zip")
    hints: dict[str, Any] = field(default_factory=dict)  # e.g. {"folder": "Sent"}
    path: Path | None = None  # on-disk path when the source is a plain file

    def open(self) -> IO[bytes]:
        return self.opener()

    @classmethod
    def from_path(cls, path: Path, fmt: str, container: str = "", **hints: Any) -> Source:
        return cls(
            name=path.name,
            format=fmt,
            opener=lambda: open(path, "rb"),
            size=path.stat().st_size,
            container=container or path.name,
            hints=dict(hints),
            path=path,
        )
