"""Safe reading of .zip and .tar(.gz/.tgz) exports without extracting anything to disk.

Every archive is checked before use: member count, unsafe names (absolute, '..', drive letters),
links and device members are rejected; bytes are counted while streaming (header sizes are never
trusted) against per-member and total limits."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from twin.errors import TooLarge, UnsafeArchive
from twin.settings import IngestLimits


class _Budget:
    """Bytes left for the whole archive, shared by all member streams."""

    def __init__(self, total: int) -> None:
        self.left = total


class LimitedReader(io.RawIOBase):
    """Wraps a member stream; raises TooLarge as soon as more bytes come out than allowed."""

    def __init__(self, raw: IO[bytes], name: str, member_limit: int, budget: _Budget) -> None:
        self._raw = raw
        self._name = name
        self._left = member_limit
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        self._left -= n
        self._budget.left -= n
        if self._left < 0 or self._budget.left < 0:
            raise TooLarge(
                f"Archive member '{self._name}' expands beyond the allowed size.",
                "The archive may be a zip bomb. If it is a genuine export, raise TWIN_INGEST_MAX_UNCOMPRESSED_BYTES.",
            )
        b[:n] = data
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def check_member_name(name: str, archive: str) -> str:
    """Reject absolute paths, drive letters and '..' components; return the normalized name."""
    norm = name.replace("\\", "/")
    p = PurePosixPath(norm)
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in p.parts or "\x00" in norm:
        raise UnsafeArchive(
            f"Archive '{archive}' has an unsafe member path '{name}'.",
            "Nothing was extracted. Re-create the archive from the original export.",
        )
    return norm


def is_ignored_member(name: str) -> bool:
    """macOS resource forks and folder entries carry no content."""
    parts = PurePosixPath(name).parts
    return (
        name.endswith("/")
        or "__MACOSX" in parts
        or (parts and parts[-1].startswith("._"))
        or (bool(parts) and parts[-1] == ".DS_Store")
    )


class _HeaderTooLarge(Exception):
    def __init__(self, kind: str, size: int) -> None:
        super().__init__(kind)
        self.kind, self.size = kind, size


_TAR_BIG_HEADERS = {
    tarfile.GNUTYPE_LONGNAME: "long name record",
    tarfile.GNUTYPE_LONGLINK: "long link record",
    tarfile.XHDTYPE: "extended header",
    tarfile.XGLTYPE: "global extended header",
    tarfile.SOLARIS_XHDTYPE: "extended header",
}


class _BoundedTarInfo(tarfile.TarInfo):
    """tarfile reads extended headers and long names whole, whatever size they claim; this refuses
    one larger than the limit before it is read. GNU sparse members (never in an export) are refused
    too: their headers chain without bound."""

    index_limit = 0

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        kind = _TAR_BIG_HEADERS.get(self.type)
        if kind is not None and self.size > self.index_limit:
            raise _HeaderTooLarge(kind, self.size)
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise _HeaderTooLarge("sparse member header", self.size)
        return super()._proc_member(tarfile_)  # type: ignore[misc]


@dataclass(slots=True)
class Member:
    name: str
    size: int  # declared size: used for display only, never as a limit


class SafeArchive:
    """A validated archive. open_member() returns a byte-counting stream."""

    def __init__(self, path: Path, limits: IngestLimits) -> None:
        self.path = path
        self.limits = limits
        self._budget = _Budget(limits.max_uncompressed_bytes)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self.members: list[Member] = []
        if zipfile.is_zipfile(path):
            self._open_zip()
        else:
            self._open_tar()  # tarfile.is_tarfile would read a first header whole, whatever its size

    def _too_many(self, n: int) -> None:
        if n > self.limits.max_archive_members:
            raise UnsafeArchive(
                f"Archive '{self.path.name}' has {n} members, "
                f"more than the limit of {self.limits.max_archive_members}.",
                "Split the export, or raise TWIN_INGEST_MAX_ARCHIVE_MEMBERS.",
            )

    def _open_zip(self) -> None:
        self._check_zip_index()
        try:
            zf = zipfile.ZipFile(self.path)
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise UnsafeArchive(f"'{self.path.name}' is a damaged zip file: {exc}.", "Export it again.") from exc
        try:
            self._check_zip_members(infos)
        except BaseException:
            zf.close()
            raise
        self._zip = zf
        self._zip_names = {check_member_name(i.filename, self.path.name): i for i in infos}

    def _check_zip_members(self, infos: list[zipfile.ZipInfo]) -> None:
        self._too_many(len(infos))
        for info in infos:
            name = check_member_name(info.filename, self.path.name)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchive(
                    f"Archive '{self.path.name}' contains a symbolic link '{info.filename}'.",
                    "Links are never followed. Re-create the archive without links.",
                )
            if info.is_dir() or is_ignored_member(name):
                continue
            if info.compress_size and info.file_size / max(info.compress_size, 1) > self.limits.max_compression_ratio:
                raise UnsafeArchive(
                    f"Archive member '{info.filename}' claims a compression ratio above "
                    f"{self.limits.max_compression_ratio}:1.",
                    "This looks like a zip bomb; nothing was read.",
                )
            self.members.append(Member(name=name, size=info.file_size))

    def _check_zip_index(self) -> None:
        """zipfile reads the whole central directory and makes an object per entry before anything can
        be checked: refuse one that is too large or counts too many entries, from the end record alone."""
        with open(self.path, "rb") as f:
            end = zipfile._EndRecData(f)  # type: ignore[attr-defined]  # private, but stable since Python 2
        if end is None:
            return  # not a readable zip: ZipFile reports it
        self._too_many(end[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]
        size = end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
        if size > self.limits.max_archive_index_bytes:
            raise UnsafeArchive(
                f"Archive '{self.path.name}' has a {size}-byte index, more than the limit of "
                f"{self.limits.max_archive_index_bytes}.",
                "Nothing was read. If it is a genuine export, raise TWIN_INGEST_MAX_ARCHIVE_INDEX_BYTES.",
            )

    def _open_tar(self) -> None:
        limit = self.limits.max_archive_index_bytes
        tarinfo = type("_TarInfo", (_BoundedTarInfo,), {"index_limit": limit})
        try:
            tf = tarfile.open(self.path, mode="r:*", tarinfo=tarinfo)  # noqa: SIM115 - closed in close()
        except _HeaderTooLarge as exc:
            raise self._index_too_large(exc) from None
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise UnsafeArchive(
                f"'{self.path.name}' is not a readable zip or tar archive.", "Check that the download finished."
            ) from exc
        try:
            infos = []
            for ti in tf:  # streams through the archive once; stops early when there are too many
                infos.append(ti)
                self._too_many(len(infos))
        except _HeaderTooLarge as exc:
            tf.close()
            raise self._index_too_large(exc) from None
        except (tarfile.TarError, OSError, EOFError) as exc:
            tf.close()
            raise UnsafeArchive(f"'{self.path.name}' is a damaged tar archive: {exc}.", "Export it again.") from exc
        except BaseException:
            tf.close()
            raise
        for ti in infos:
            name = check_member_name(ti.name, self.path.name)
            if ti.issym() or ti.islnk():
                raise UnsafeArchive(
                    f"Archive '{self.path.name}' contains a link '{ti.name}'.",
                    "Links are never followed. Re-create the archive without links.",
                )
            if ti.isdev() or ti.isfifo() or ti.ischr() or ti.isblk():
                raise UnsafeArchive(
                    f"Archive '{self.path.name}' contains a device member '{ti.name}'.",
                    "Re-create the archive from the original export.",
                )
            if ti.isfile() and not is_ignored_member(name):
                self.members.append(Member(name=name, size=ti.size))
        self._tar = tf
        self._tar_infos = {check_member_name(ti.name, self.path.name): ti for ti in infos}

    def _index_too_large(self, exc: _HeaderTooLarge) -> UnsafeArchive:
        return UnsafeArchive(
            f"Archive '{self.path.name}' has a {exc.size}-byte {exc.kind}, "
            f"more than the limit of {self.limits.max_archive_index_bytes}.",
            "Nothing was read. If it is a genuine export, raise TWIN_INGEST_MAX_ARCHIVE_INDEX_BYTES.",
        )

    def open_member(self, name: str) -> IO[bytes]:
        raw: IO[bytes] | None
        if self._zip is not None:
            raw = self._zip.open(self._zip_names[name])
        else:
            assert self._tar is not None
            raw = self._tar.extractfile(self._tar_infos[name])
        if raw is None:
            raise UnsafeArchive(f"Member '{name}' of '{self.path.name}' is not a regular file.", "")
        reader = LimitedReader(raw, name, self.limits.max_member_bytes, self._budget)
        return io.BufferedReader(reader, buffer_size=1 << 20)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def iter_members(self) -> Iterator[Member]:
        return iter(self.members)


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and (
        name.endswith((".zip", ".tgz", ".tar", ".tar.gz", ".tar.bz2", ".tar.xz")) or zipfile.is_zipfile(path)
    )
