"""The cache of one-off reference clips (`voice/cache/refs`): trimmed clips stored by content, bounded in
size, least recently used evicted first.

Key = sha256 of the uploaded bytes plus the trimming settings, so the same upload is decoded and
scanned once; only the trimmed clip (at most `reference.max_s` at 22,050 Hz) is stored. A hit touches
the file's mtime, which is the LRU clock; every store evicts until the folder is under its cap."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import numpy as np

from twin.audio.encode import save_wav
from twin.audio.source import Source

_VERSION = b"ref-v2"
_LOCK = threading.Lock()


def content_digest(src: Source, settings: str) -> str:
    """sha256 of the audio's bytes (files are read in blocks) and of the settings that shape the clip."""
    h = hashlib.sha256(_VERSION + settings.encode())
    if isinstance(src, bytes | bytearray):
        h.update(src)
    else:
        with open(src, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:32]


class ReferenceCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, digest: str) -> Path:
        return self.root / f"{digest}.wav"

    def get(self, digest: str) -> Path | None:
        path = self.path(digest)
        with _LOCK:
            try:
                now = time.time()
                os.utime(path, (now, now))
            except OSError:
                return None
        return path

    def put(self, digest: str, audio: np.ndarray, sr: int) -> Path:
        """Store the clip, then evict older clips until the cache fits (the new clip always stays)."""
        path = save_wav(self.path(digest), audio, sr)
        with _LOCK:
            self._evict(keep=path)
        return path

    def entries(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.glob("*.wav") if not p.name.startswith(".")]

    def size(self) -> int:
        return sum(_size(p) for p in self.entries())

    def _evict(self, keep: Path) -> None:
        files = sorted((p for p in self.entries() if p != keep), key=_mtime)
        total = sum(_size(p) for p in files) + _size(keep)
        while files and total > self.max_bytes:
            victim = files.pop(0)
            total -= _size(victim)
            victim.unlink(missing_ok=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
