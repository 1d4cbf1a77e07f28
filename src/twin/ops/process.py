"""What every twin process does first, and user-only file modes.

Everything twin writes is the owner's private data (messages, voice, keys, logs), so the CLI and the
server run with a 077 umask: new folders are 0700 and new files 0600 whoever creates them (twin, SQLite,
a library). The databases are also created explicitly user-only, so they stay private when twin is used as
a library from a process with a looser umask."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from twin.offline_env import apply_offline_env

PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def prepare_process() -> None:
    """Call once at process start (CLI entry point, server): offline native libraries, user-only files."""
    apply_offline_env()
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) and make the folder itself user-only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create `path` if missing and make it user-only, before a database or log is opened on it (SQLite
    gives its -wal and -shm files the mode of the database file)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    os.close(fd)
    os.chmod(path, PRIVATE_FILE)
    return path


def free_space(path: Path) -> int | None:
    """Free bytes on the disk holding `path` (or its nearest existing parent); None if unknown."""
    for p in (path, *path.parents):
        if p.exists():
            try:
                return shutil.disk_usage(p).free
            except OSError:
                return None
    return None
