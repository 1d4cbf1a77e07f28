"""Where audio comes from: a path or bytes, read without loading the whole file, named for messages.

Every error about a recording names it by its display name (what the user calls the file: the name
they passed or uploaded), never by a server path, a temporary file or an object repr."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from twin.errors import InvalidInput, NotFound

Source = str | os.PathLike[str] | bytes

UPLOAD_NAME = "the uploaded audio"


def display_name(src: Source, name: str | None = None) -> str:
    """The name to show the user: `name` when given, else the file's own name (never its folder)."""
    if name:
        return name
    if isinstance(src, bytes | bytearray):
        return UPLOAD_NAME
    return Path(src).name or UPLOAD_NAME


class Reader:
    """Random access over a path or bytes without reading the whole file."""

    def __init__(self, src: Source, name: str | None = None) -> None:
        self.name = display_name(src, name)
        if isinstance(src, bytes | bytearray):
            self._fh: BinaryIO = io.BytesIO(bytes(src))
            self.size = len(src)
            return
        path = Path(src)
        if not path.exists():
            raise NotFound(f"{self.name}: no such file.", "Check the path.")
        if not path.is_file():
            raise InvalidInput(f"{self.name}: not a regular file.", "Pass an audio file, not a folder or device.")
        self._fh = path.open("rb")
        self.size = path.stat().st_size

    def read(self, offset: int, n: int) -> bytes:
        self._fh.seek(offset)
        return self._fh.read(n)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class as_path:  # noqa: N801 - used like a function: `with as_path(src) as path`
    """A filesystem path for a path or bytes (bytes go to a private temporary file, removed on exit)."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if isinstance(self.src, bytes | bytearray):
            fd, name = tempfile.mkstemp(suffix=".audio")
            with os.fdopen(fd, "wb") as f:
                f.write(self.src)
            self.tmp = Path(name)
            return self.tmp
        return Path(self.src)

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def soundfile_source(src: Source) -> str | io.BytesIO:
    """What soundfile opens: the path as text, or the bytes in a BytesIO."""
    return io.BytesIO(bytes(src)) if isinstance(src, bytes | bytearray) else os.fspath(src)


def library_reason(exc: Exception) -> str:
    """A decoder's own short reason ("Format not recognised"), without the file or object it names."""
    text = str(getattr(exc, "error_string", "") or "")
    return text.strip().rstrip(".") or "the data is not valid"
