"""`twin backup create|restore`: one file holding a profile: its SQLite database (copied with the online
backup API, so a running server can keep writing), every other file of the profile, and a manifest with
each file's SHA-256. A backup of an encrypted profile is sealed as a whole with the profile's data key
(its wrapped key travels in a small plain header, so the same keyring or passphrase opens it).

Restore always goes into a new profile: members are checked (plain files, relative paths inside the
profile, sizes) while they are unpacked into a staging folder, every checksum is compared with the
manifest and the database passes `PRAGMA integrity_check` before the folder is renamed into place."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from twin import __version__
from twin.errors import AlreadyExists, InvalidInput, NotFound, TwinError
from twin.ids import check_name, new_id
from twin.ops import crypto
from twin.ops.crypto import Unlock
from twin.profiles import Profile, ProfileConfig, ProfileManager
from twin.settings import Settings
from twin.store.db import connect

FORMAT = "twin-backup"
VERSION = 1
SEALED_MAGIC = b"TWINBAK1"
MANIFEST = "manifest.json"
DB_MEMBER = "twin.db"
INDEX_FILE = "backups.json"
MAX_MEMBERS = 1_000_000
_SKIP_DIRS = {("voice", "cache"), ("voice", "tmp")}


class BackupCorrupt(TwinError):
    code = "backup_corrupt"
    http_status = 422


@dataclass
class BackupResult:
    path: Path
    profile: str
    files: int
    bytes: int
    encrypted: bool
    created: str
    tables: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "profile": self.profile,
            "files": self.files,
            "bytes": self.bytes,
            "encrypted": self.encrypted,
            "created": self.created,
            "tables": self.tables,
        }


def _profile_files(profile: Profile) -> Iterator[tuple[Path, str]]:
    """(path, name in the archive) of every file to keep: not the live database, caches or leftovers."""
    for dirpath, dirs, names in os.walk(profile.root):
        rel_dir = Path(dirpath).relative_to(profile.root)
        dirs[:] = sorted(d for d in dirs if tuple((rel_dir / d).parts) not in _SKIP_DIRS and not d.endswith(".tmp"))
        for name in sorted(names):
            path = Path(dirpath) / name
            rel = (rel_dir / name).as_posix()
            if rel.startswith("twin.db") or name.endswith(".tmp") or path.is_symlink() or not path.is_file():
                continue
            yield path, rel


def _database_bytes(profile: Profile) -> tuple[bytes, dict[str, int]]:
    """A consistent copy of the live database (online backup API) and its tables' row counts."""
    src = connect(profile)
    mem = sqlite3.connect(":memory:")
    try:
        src.backup(mem)
        tables = [r[0] for r in mem.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        counts = {t: int(mem.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in tables}
        return mem.serialize(), counts
    finally:
        src.close()
        mem.close()


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode & 0o700, int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _write_archive(out: BinaryIO, profile: Profile) -> tuple[dict[str, object], int]:
    files: list[dict[str, object]] = []
    total = 0
    with tarfile.open(fileobj=out, mode="w|gz") as tar:
        db, counts = _database_bytes(profile)
        _add(tar, DB_MEMBER, db)
        files.append({"path": DB_MEMBER, "size": len(db), "sha256": hashlib.sha256(db).hexdigest()})
        total += len(db)
        for path, rel in _profile_files(profile):
            data = path.read_bytes()
            _add(tar, rel, data, path.stat().st_mode)
            files.append({"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
            total += len(data)
        manifest: dict[str, object] = {
            "format": FORMAT,
            "version": VERSION,
            "profile": profile.name,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "twin_version": __version__,
            "files": files,
            "tables": counts,
        }
        _add(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
    return manifest, total


def create_backup(settings: Settings, profile: Profile, out: Path, unlock: Unlock | None = None) -> BackupResult:
    """Write the backup to `out` (atomically: a half-written backup never has the final name)."""
    from twin.voice.storage import VoiceStorage, load_state

    state = load_state(profile)
    out = Path(out)
    if out.exists():
        raise AlreadyExists(f"{out} already exists.", "Pick a new file name; backups are never overwritten.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            if state is None:
                manifest, total = _write_archive(fh, profile)
            else:
                key = VoiceStorage(profile, unlock).key_for()
                header = state.model_dump_json().encode()
                fh.write(SEALED_MAGIC + struct.pack(">I", len(header)) + header)
                writer = crypto.SealingWriter(key, fh, FORMAT)
                manifest, total = _write_archive(writer, profile)  # type: ignore[arg-type]
                writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    result = BackupResult(
        out.absolute(),
        profile.name,
        len(manifest["files"]),  # type: ignore[arg-type]
        total,
        state is not None,
        str(manifest["created"]),
        dict(manifest["tables"]),  # type: ignore[call-overload]
    )
    _remember(settings, result)
    return result


def _remember(settings: Settings, result: BackupResult) -> None:
    """Note the backup in TWIN_HOME/backups.json, so `twin doctor` can point at it when a profile breaks."""
    index = settings.home / INDEX_FILE
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = []
    entries = [e for e in entries if isinstance(e, dict)][-199:]
    entries.append({"path": str(result.path), "profile": result.profile, "created": result.created})
    tmp = index.with_name(f".{index.name}.tmp")
    tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, index)


def known_backups(settings: Settings, profile: str | None = None) -> list[dict[str, str]]:
    """Backups made with this install that still exist, newest first."""
    try:
        entries = json.loads((settings.home / INDEX_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = [
        e
        for e in entries
        if isinstance(e, dict)
        and (profile is None or e.get("profile") == profile)
        and Path(str(e.get("path"))).is_file()
    ]
    return sorted(found, key=lambda e: str(e.get("created")), reverse=True)


# ---- restore ---------------------------------------------------------------------------------------


def _safe_member(member: tarfile.TarInfo) -> str:
    name = member.name
    parts = name.split("/")
    if not member.isfile() or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise BackupCorrupt(
            f"The backup holds an unsafe entry ({name[:80]!r}).",
            "It was not made by twin backup create; do not use it.",
        )
    return name


def _open_archive(fh: BinaryIO, unlock: Unlock | None, name: str) -> tuple[BinaryIO, bytes | None]:
    """The plain tar.gz stream of a backup file, and its encryption state JSON (None when not sealed)."""
    from twin.voice.storage import EncryptionState

    head = fh.read(len(SEALED_MAGIC))
    if head != SEALED_MAGIC:
        if head[:2] != b"\x1f\x8b":
            raise BackupCorrupt(f"{name} is not a twin backup.", "Pass a file written by twin backup create.")
        return _Prefixed(head, fh), None  # type: ignore[return-value]
    (size,) = struct.unpack(">I", fh.read(4))
    if size > 1 << 20:
        raise BackupCorrupt(f"{name} has a damaged header.", "The file is corrupt.")
    header = fh.read(size)
    state = EncryptionState.model_validate_json(header)
    key = crypto.unwrap(state.current, unlock or Unlock())
    return crypto.OpeningReader(key, fh, FORMAT, name), header  # type: ignore[return-value]


class _Prefixed:
    """Puts back the bytes read to sniff the format."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = head, rest

    def read(self, n: int = -1) -> bytes:
        if self._head:
            out = self._head if n < 0 or n >= len(self._head) else self._head[:n]
            self._head = self._head[len(out) :]
            more = self._rest.read(-1 if n < 0 else n - len(out)) if (n < 0 or n > len(out)) else b""
            return out + more
        return self._rest.read(n)


def _unpack(stream: BinaryIO, staging: Path) -> tuple[dict[str, object], dict[str, tuple[int, str]]]:
    seen: dict[str, tuple[int, str]] = {}
    manifest: dict[str, object] | None = None
    with tarfile.open(fileobj=stream, mode="r|gz") as tar:
        for i, member in enumerate(tar):
            if i >= MAX_MEMBERS:
                raise BackupCorrupt("The backup holds too many entries.", "It was not made by twin backup create.")
            name = _safe_member(member)
            src = tar.extractfile(member)
            assert src is not None
            if name == MANIFEST:
                manifest = json.loads(src.read(16 << 20))
                continue
            dest = staging / name
            dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            digest, size = hashlib.sha256(), 0
            with open(dest, "wb") as out:
                while block := src.read(1 << 20):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
            os.chmod(dest, member.mode & 0o700 or 0o600)  # read-only originals stay read-only
            seen[name] = (size, digest.hexdigest())
    if manifest is None or manifest.get("format") != FORMAT:
        raise BackupCorrupt("The backup has no manifest.", "It is truncated or was not made by twin backup create.")
    return manifest, seen


def _verify(manifest: dict[str, object], seen: dict[str, tuple[int, str]]) -> None:
    listed = {str(f["path"]): (int(f["size"]), str(f["sha256"])) for f in manifest["files"]}  # type: ignore[attr-defined]
    bad = sorted(n for n in set(listed) | set(seen) if listed.get(n) != seen.get(n))
    if bad:
        raise BackupCorrupt(
            f"The backup does not match its manifest ({len(bad)} file(s), e.g. {bad[0]}).",
            "The file was changed or damaged; use another backup.",
        )


def _check_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupCorrupt(f"The backed-up database is damaged ({exc}).", "Use another backup.") from None
    finally:
        conn.close()
    if result != "ok":
        raise BackupCorrupt(f"The backed-up database failed its integrity check ({result}).", "Use another backup.")


def restore_backup(settings: Settings, archive: Path, new_name: str, unlock: Unlock | None = None) -> BackupResult:
    """Unpack `archive` into the new profile `new_name`, verified against its manifest."""
    check_name(new_name, "profile name")
    pm = ProfileManager(settings)
    if pm.exists(new_name) or pm.path_for(new_name).exists():
        raise AlreadyExists(f"Profile '{new_name}' already exists.", "Restore into a new profile name.")
    if not Path(archive).is_file():
        raise NotFound(f"{archive}: no such backup file.", "Check the path.")
    staging = settings.profiles_dir / f".restore-{new_name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, mode=0o700)
    try:
        with open(archive, "rb") as fh:
            stream, sealed = _open_archive(fh, unlock, Path(archive).name)
            try:
                manifest, seen = _unpack(stream, staging)
            except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
                if isinstance(exc, OSError) and exc.errno is not None:
                    raise
                raise BackupCorrupt(f"The backup is damaged ({type(exc).__name__}).", "Use another backup.") from None
        _verify(manifest, seen)
        _check_database(staging / DB_MEMBER)
        _adopt(staging, new_name)
        final = pm.path_for(new_name)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    profile = pm.get(new_name)
    if sealed is not None:
        _check_sealed_files(profile, unlock)
    files = manifest["files"]
    return BackupResult(
        final,
        new_name,
        len(files),  # type: ignore[arg-type]
        sum(s for s, _ in seen.values()),
        sealed is not None,
        str(manifest.get("created")),
        dict(manifest.get("tables") or {}),  # type: ignore[call-overload]
    )


def _adopt(staging: Path, new_name: str) -> None:
    """The restored files become a new profile: its own name and id (keys of the old one do not open it)."""
    config_path = staging / "profile.json"
    if not config_path.is_file():
        raise BackupCorrupt("The backup holds no profile.json.", "It was not made by twin backup create.")
    config = ProfileConfig.model_validate_json(config_path.read_text(encoding="utf-8"))
    config.name = new_name
    config.id = new_id()
    config_path.write_text(config.model_dump_json(indent=2), encoding="utf-8")
    for dirpath, _dirs, _names in os.walk(staging):
        os.chmod(dirpath, 0o700)


def _check_sealed_files(profile: Profile, unlock: Unlock | None) -> None:
    """Every sealed voice file opens with the profile's keys (the restore is usable, not just present)."""
    from twin.voice.encryption import voice_files
    from twin.voice.storage import VoiceStorage

    store = VoiceStorage(profile, unlock)
    for path in voice_files(profile):
        if store.is_sealed(path):
            store.read_bytes(path)


def check_backup_path(out: Path) -> Path:
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder.", "Give a file name, e.g. --out me-2026-12-01.twinbak")
    return out
