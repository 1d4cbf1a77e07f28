"""Remove what a crashed or killed twin process left behind: half-written uploads, voices and export
copies, and the temporary files of atomic writes.

A leftover is removed only when no live twin process can still be writing it. Every process that
cleans up first registers itself in `$TWIN_HOME/run/<pid>.lock`, holding an flock on that file for its
whole life and writing its start time into it. A leftover last modified before the start of every
live registered process was made by a process that is gone, so it is safe to delete; anything newer
is kept for a later run. A lock file that can be locked belongs to a dead process and is removed.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from twin.ops.process import private_dir
from twin.profiles import Profile, ProfileManager
from twin.settings import Settings

log = logging.getLogger("twin.cleanup")

# The temporary file of an atomic write: ".<name>.<random>.tmp" (profiles.write_text_atomic) and the
# same shape elsewhere (".<name>.tmp", ".<name>.tmp.npz").
_ATOMIC_TMP = re.compile(r"\..+\.tmp(?:\.[a-z0-9]+)?")
_EXPORT_COPY = re.compile(r"[0-9a-f]{16}")  # exports/<digest16>/: finished read-only copies, never temporary

_registered: dict[Path, tuple[int, float]] = {}  # run dir -> (open lock fd, start time) of this process
_register_lock = threading.Lock()
_MAX_HOMES = 8
_START = time.time()


@dataclass
class CleanupReport:
    removed: list[Path] = field(default_factory=list)
    bytes_freed: int = 0
    kept_in_use: int = 0

    def merge(self, other: CleanupReport) -> None:
        self.removed += other.removed
        self.bytes_freed += other.bytes_freed
        self.kept_in_use += other.kept_in_use


def register_process(settings: Settings) -> None:
    """Mark this process as live for cleanups run by other processes (idempotent)."""
    run_dir = settings.home / "run"
    with _register_lock:
        if run_dir in _registered:
            return
        if len(_registered) >= _MAX_HOMES:  # only a test process moves between many homes
            old_dir = next(iter(_registered))
            os.close(_registered.pop(old_dir)[0])
        private_dir(run_dir)
        fd = os.open(run_dir / f"{os.getpid()}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until the process exits; the kernel releases it even on kill -9
        os.ftruncate(fd, 0)
        os.write(fd, repr(_START).encode())
        _registered[run_dir] = (fd, _START)
        atexit.register(_unregister, run_dir / f"{os.getpid()}.lock")


def _unregister(path: Path) -> None:
    """At a normal exit, remove this process's lock file (after a crash the next cleanup does)."""
    with contextlib.suppress(OSError):
        path.unlink()


def _live_starts(run_dir: Path) -> list[float]:
    """Start times of the live registered processes; lock files of dead ones are removed."""
    starts = []
    for path in run_dir.glob("*.lock"):
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            starts.append(_read_start(fd))
        else:
            path.unlink(missing_ok=True)  # its owner is gone
        finally:
            os.close(fd)
    return starts


def _read_start(fd: int) -> float:
    try:
        return float(os.pread(fd, 64, 0).decode() or 0.0)
    except ValueError:
        return 0.0  # being written this instant: treat as "started long ago", which keeps everything


def cutoff(settings: Settings) -> float:
    """Leftovers last modified before this moment belong to no live process."""
    register_process(settings)
    return min([_START, *_live_starts(settings.home / "run")])


def _candidates(profile: Profile) -> Iterator[Path]:
    """Temporary files and folders of the known kinds in one profile."""
    voice_tmp = profile.voice_dir / "tmp"
    if voice_tmp.is_dir():
        yield from voice_tmp.iterdir()  # uploads and demo clips: temporary by definition
    voices = profile.voice_dir / "profiles"
    if voices.is_dir():
        yield from (p for p in voices.iterdir() if p.is_dir() and p.name.startswith(".") and p.name.endswith(".tmp"))
    if profile.exports_dir.is_dir():
        yield from (p for p in profile.exports_dir.iterdir() if p.name.startswith((".staging-", ".copy-")))
    yield from _atomic_tmp_files(profile.root, profile.exports_dir)


def _atomic_tmp_files(root: Path, exports: Path) -> Iterator[Path]:
    skip = {root / "voice" / "tmp"}  # yielded whole by _candidates
    for dirpath, dirs, files in os.walk(root):
        here = Path(dirpath)
        kept = [d for d in dirs if here / d not in skip and not (d.startswith(".") and d.endswith(".tmp"))]
        if here == exports:
            kept = [d for d in kept if not _EXPORT_COPY.fullmatch(d) and not d.startswith(".staging-")]
        dirs[:] = kept
        yield from (here / f for f in files if _ATOMIC_TMP.fullmatch(f))


def _newest_mtime_and_size(path: Path) -> tuple[float, int]:
    st = path.lstat()
    if not path.is_dir() or path.is_symlink():
        return st.st_mtime, st.st_size
    newest, size = st.st_mtime, 0
    for dirpath, _dirs, files in os.walk(path):
        newest = max(newest, os.lstat(dirpath).st_mtime)
        for f in files:
            fst = os.lstat(os.path.join(dirpath, f))
            newest, size = max(newest, fst.st_mtime), size + fst.st_size
    return newest, size


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for dirpath, _dirs, _files in os.walk(path):
            os.chmod(dirpath, 0o700)  # read-only copies inside a staging folder need write permission back
        shutil.rmtree(path)
    else:
        path.unlink()


def clean_profile(profile: Profile, before: float) -> CleanupReport:
    """Remove the profile's leftovers last modified before `before` (a time from cutoff())."""
    report = CleanupReport()
    for path in _candidates(profile):
        try:
            mtime, size = _newest_mtime_and_size(path)
            if mtime >= before:
                report.kept_in_use += 1
                continue
            _remove(path)
        except FileNotFoundError:
            continue  # removed meanwhile by its owner or another cleanup
        except OSError as exc:  # never let housekeeping break the command that asked for it
            log.warning("could not remove leftover %s: %s", path.name, exc.strerror)
            continue
        report.removed.append(path)
        report.bytes_freed += size
    return report


def clean_leftovers(settings: Settings, profiles: Iterable[Profile] | None = None) -> CleanupReport:
    """Clean the given profiles (default: all of them) of what crashed processes left behind."""
    before = cutoff(settings)
    report = CleanupReport()
    for profile in ProfileManager(settings).list() if profiles is None else profiles:
        report.merge(clean_profile(profile, before))
    if report.removed:
        log.info("removed %d leftover(s) of earlier runs (%d bytes)", len(report.removed), report.bytes_freed)
    return report
