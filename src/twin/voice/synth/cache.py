"""Content-addressed audio cache, bounded by size, least-recently-used entries evicted first.

Key = sha256 of (engine id@version, voice hash, normalized text, options, format). Entries live under
`<cache>/<voice>/` ("_base" for no voice) as `<key>.<fmt>` plus `<key>.json` (metadata); a hit touches
the file's mtime, which is the LRU clock. When the voice's references or converter change its hash
changes, and `check_voice` clears that voice's folder so stale audio is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.ids import check_name
from twin.voice.storage import VoiceStorage


def cache_key(engine_id: str, voice_hash: str, text: str, options: dict[str, Any], fmt: str) -> str:
    blob = json.dumps(
        {"e": engine_id, "v": voice_hash, "t": text, "o": options, "f": fmt}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class CacheEntry:
    audio: bytes
    meta: dict[str, Any]


class AudioCache:
    def __init__(self, root: Path, max_bytes: int = 256 * 1024**2, storage: VoiceStorage | None = None) -> None:
        self.root = Path(root)
        self.storage = storage  # seals entries when the profile is encrypted
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def _dir(self, voice: str | None) -> Path:
        return self.root / (check_name(voice, "voice id") if voice else "_base")

    def get(self, voice: str | None, key: str, fmt: str) -> CacheEntry | None:
        path = self._dir(voice) / f"{key}.{fmt}"
        with self._lock:
            try:
                audio = self.storage.read_bytes(path) if self.storage else path.read_bytes()
                meta = json.loads((path.with_suffix(".json")).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            now = time.time()
            os.utime(path, (now, now))
        return CacheEntry(audio, meta)

    def put(self, voice: str | None, key: str, fmt: str, audio: bytes, meta: dict[str, Any]) -> None:
        folder = self._dir(voice)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            tmp = folder / f".{key}.{fmt}.tmp"
            tmp.write_bytes(audio if self.storage is None else self.storage.sealed(folder / f"{key}.{fmt}", audio))
            (folder / f"{key}.json").write_text(json.dumps(meta), encoding="utf-8")
            os.replace(tmp, folder / f"{key}.{fmt}")
            self._evict()

    def entries(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.glob("*/*") if p.suffix in (".wav", ".mp3") and not p.name.startswith(".")]

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.entries())

    def _evict(self) -> None:
        files = sorted(self.entries(), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        while files and total > self.max_bytes:
            victim = files.pop(0)
            total -= victim.stat().st_size
            victim.unlink(missing_ok=True)
            victim.with_suffix(".json").unlink(missing_ok=True)

    def invalidate(self, voice: str | None) -> None:
        with self._lock:
            shutil.rmtree(self._dir(voice), ignore_errors=True)

    def check_voice(self, voice: str | None, voice_hash: str) -> None:
        """Drop the voice's entries when its content hash differs from the one they were made with."""
        folder = self._dir(voice)
        marker = folder / ".voice_hash"
        try:
            old = marker.read_text(encoding="utf-8")
        except OSError:
            old = None
        if old == voice_hash:
            return
        if old is not None:
            self.invalidate(voice)
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(voice_hash, encoding="utf-8")
