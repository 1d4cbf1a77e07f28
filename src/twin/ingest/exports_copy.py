"""Keep a read-only copy of every imported export in the profile's exports/ folder, named by content
digest so the same file is stored once. The copy is staged first (hashing while copying) and only
kept once the import read something from it: a file that yielded nothing leaves nothing behind."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from twin.errors import DiskFull
from twin.profiles import Profile

_CHUNK = 1 << 20


# Space left free after a copy, so the database and the rest of the system can still write.
RESERVE_BYTES = 64_000_000


def _check_space(profile: Profile, needed: int) -> None:
    free = shutil.disk_usage(profile.exports_dir).free
    if needed > free - RESERVE_BYTES:
        raise DiskFull.for_write("a copy of the export", needed, free, RESERVE_BYTES)


def _tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _make_read_only(path: Path) -> None:
    if path.is_dir():
        for dirpath, _dirs, files in os.walk(path):
            for f in files:
                os.chmod(Path(dirpath) / f, 0o400)
            os.chmod(dirpath, 0o500)
    else:
        os.chmod(path, 0o400)


def _copy_file_hashing(src: Path, dst_dir: Path, digest: hashlib._Hash) -> Path:
    fd, tmp = tempfile.mkstemp(dir=dst_dir, prefix=".copy-")
    with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
        while chunk := inp.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return Path(tmp)


_OWNER = ".owner"  # inside a staging folder; its lock is held while the import that made it runs


@dataclass
class StagedCopy:
    """A finished copy waiting in exports/.staging-*: commit() keeps it, discard() drops it. The
    folder stays locked while this import runs, so clean_stale_staging() only removes leftovers."""

    sha256: str
    final: Path  # where commit() puts it: exports/<digest16>/<name>
    _staging: Path
    _tmp: Path
    _lock: int  # open file descriptor holding the staging folder's lock

    def commit(self) -> Path:
        if not self.final.exists():
            self.final.parent.mkdir(exist_ok=True)
            os.replace(self._tmp, self.final)
            _make_read_only(self.final)
        self.discard()
        return self.final

    def discard(self) -> None:
        if self._lock >= 0:
            _remove_tree(self._staging)
            os.close(self._lock)
            self._lock = -1


def _remove_tree(folder: Path) -> None:
    for dirpath, dirs, _files in os.walk(folder):
        os.chmod(dirpath, 0o700)
        for d in dirs:
            os.chmod(Path(dirpath) / d, 0o700)
    shutil.rmtree(folder, ignore_errors=True)


def _locked_staging(profile: Profile) -> tuple[Path, int]:
    staging = Path(tempfile.mkdtemp(dir=profile.exports_dir, prefix=".staging-"))
    fd = os.open(staging / ".owner-new", os.O_CREAT | os.O_WRONLY, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(staging / ".owner-new", staging / _OWNER)  # appears already locked: never seen unlocked
    return staging, fd


def clean_stale_staging(profile: Profile) -> int:
    """Remove staging folders left by an import that was killed (nobody holds their lock); return how many."""
    removed = 0
    for folder in profile.exports_dir.glob(".staging-*") if profile.exports_dir.is_dir() else []:
        try:
            fd = os.open(folder / _OWNER, os.O_RDONLY)
        except FileNotFoundError:
            continue  # being created right now
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _remove_tree(folder)
            removed += 1
        except BlockingIOError:
            pass  # a running import holds it
        finally:
            os.close(fd)
    return removed


def stage_copy(profile: Profile, origin: Path) -> StagedCopy:
    """Copy `origin` (file or folder) into a staging folder inside exports/, hashing it on the way."""
    profile.exports_dir.mkdir(parents=True, exist_ok=True)
    _check_space(profile, _tree_size(origin) if origin.is_dir() else origin.stat().st_size)
    digest = hashlib.sha256()
    staging, lock = _locked_staging(profile)
    try:
        if origin.is_dir():
            tmp = staging / origin.name
            tmp.mkdir()
            for f in sorted(p for p in origin.rglob("*") if p.is_file() and not p.is_symlink()):
                rel = f.relative_to(origin)
                digest.update(str(rel).encode() + b"\0")
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(_copy_file_hashing(f, staging, digest), tmp / rel)
        else:
            tmp = _copy_file_hashing(origin, staging, digest)
    except BaseException:
        _remove_tree(staging)
        os.close(lock)
        raise
    sha = digest.hexdigest()
    return StagedCopy(sha, profile.exports_dir / sha[:16] / origin.name, staging, tmp, lock)


def copy_dir(profile: Profile, sha256: str) -> Path:
    """The folder holding the kept copy of the export with this digest."""
    return profile.exports_dir / sha256[:16]


def remove_copy(profile: Profile, sha256: str) -> bool:
    """Delete the kept copy of an export (it is read-only by design); True when there was one."""
    folder = copy_dir(profile, sha256)
    if not folder.is_dir():
        return False
    for dirpath, dirs, _files in os.walk(folder):
        os.chmod(dirpath, 0o700)
        for d in dirs:
            os.chmod(Path(dirpath) / d, 0o700)
    shutil.rmtree(folder)
    return True
