"""Keep a read-only copy of every imported export in the profile's exports/ folder, named by content
digest so the same file is stored once."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
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


def keep_copy(profile: Profile, origin: Path) -> tuple[str, Path]:
    """Copy `origin` (file or folder) into exports/<digest16>/<name>, read-only; return (sha256, stored path)."""
    profile.exports_dir.mkdir(parents=True, exist_ok=True)
    _check_space(profile, _tree_size(origin) if origin.is_dir() else origin.stat().st_size)
    digest = hashlib.sha256()
    staging = Path(tempfile.mkdtemp(dir=profile.exports_dir, prefix=".staging-"))
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
        sha = digest.hexdigest()
        final_dir = profile.exports_dir / sha[:16]
        final = final_dir / origin.name
        if final.exists():
            return sha, final
        final_dir.mkdir(exist_ok=True)
        os.replace(tmp, final)
        _make_read_only(final)
        return sha, final
    finally:
        for dirpath, dirs, _files in os.walk(staging):
            os.chmod(dirpath, 0o700)
            for d in dirs:
                os.chmod(Path(dirpath) / d, 0o700)
        shutil.rmtree(staging, ignore_errors=True)
