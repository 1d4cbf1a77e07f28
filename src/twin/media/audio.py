"""Windowed access to a project's soundtrack: read any span without loading the film, walk it in blocks,
and keep per-block partial results on disk so an interrupted stage continues where it stopped."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import MissingDependency, ParseError


def _soundfile() -> Any:
    try:
        import soundfile
    except ImportError:
        raise MissingDependency.for_extra("Reading the soundtrack", "voice", "soundfile") from None
    return soundfile


class AudioFile:
    """A mono WAV read in spans (seconds); nothing beyond the span is held in memory."""

    def __init__(self, path: Path) -> None:
        sf = _soundfile()
        try:
            info = sf.info(str(path))
        except Exception:  # libsndfile's errors vary by version
            raise ParseError(
                f"{path.name} is unreadable.", "Rerun `twin media transcribe` to extract it again."
            ) from None
        self.path = path
        self.sample_rate = int(info.samplerate)
        self.frames = int(info.frames)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def read(self, start_s: float, end_s: float) -> np.ndarray:
        sf = _soundfile()
        a = max(0, int(round(start_s * self.sample_rate)))
        b = min(self.frames, int(round(end_s * self.sample_rate)))
        if b <= a:
            return np.zeros(0, dtype=np.float32)
        with sf.SoundFile(str(self.path)) as f:
            f.seek(a)
            data = f.read(b - a, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data[:, 0])

    def blocks(self, block_s: float) -> Iterator[tuple[int, float, np.ndarray]]:
        """(block number, start seconds, samples) for consecutive blocks of `block_s` seconds."""
        n = max(1, int(np.ceil(self.duration_s / block_s)))
        for k in range(n):
            start = k * block_s
            yield k, start, self.read(start, min(self.duration_s, start + block_s))


class Checkpoint:
    """Per-block results of one stage under work/<stage>/, each written atomically; cleared when done."""

    def __init__(self, work_dir: Path, stage: str, key: dict[str, Any]) -> None:
        self.dir = work_dir / stage
        self.key = json.loads(json.dumps(key))  # as it reads back (tuples become lists)
        self._ensure()

    def _ensure(self) -> None:
        key_file = self.dir / "key.json"
        if key_file.is_file():
            try:
                same = json.loads(key_file.read_text(encoding="utf-8")) == self.key
            except ValueError:
                same = False
            if not same:  # settings changed: partial results no longer apply
                shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        if not key_file.is_file():
            key_file.write_text(json.dumps(self.key), encoding="utf-8")

    def _file(self, block: int, ext: str) -> Path:
        return self.dir / f"block-{block:06d}.{ext}"

    def done_blocks(self) -> int:
        return len(list(self.dir.glob("block-*.*")))

    def load_array(self, block: int) -> np.ndarray | None:
        path = self._file(block, "npy")
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError):
            return None  # a torn write from a killed run: compute the block again

    def save_array(self, block: int, value: np.ndarray) -> None:
        path = self._file(block, "npy")
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("wb") as f:
            np.save(f, value, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def load_json(self, block: int) -> Any:
        path = self._file(block, "json")
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            return None

    def save_json(self, block: int, value: Any) -> None:
        path = self._file(block, "json")
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(value), encoding="utf-8")
        os.replace(tmp, path)

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
