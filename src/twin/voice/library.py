"""The voice library: import recordings (originals kept untouched and read-only under voice/raw/) and
record prepared clips (voice/clean/<emotion>/<clip>.wav) with their metadata in SQLite.

Every file is handled on its own: a bad file is reported and the batch goes on."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twin.audio.probe import AUDIO_SUFFIXES, AudioInfo, probe
from twin.errors import InvalidInput, NotFound, TwinError
from twin.ids import check_id, check_name, new_id
from twin.profiles import Profile
from twin.store.db import connect
from twin.voice.config import VoiceConfig, load_voice_config


def raw_dir(profile: Profile) -> Path:
    return profile.voice_dir / "raw"


def clean_dir(profile: Profile) -> Path:
    return profile.voice_dir / "clean"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ImportResult:
    path: str
    status: str  # imported | duplicate | error
    source_id: str | None = None
    emotion: str | None = None
    info: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Source:
    id: str
    sha256: str
    original_name: str
    stored_path: str
    emotion: str
    format: str
    sample_rate: int
    channels: int
    duration_s: float
    imported_at: str
    prepared_at: str | None
    prepare_error: str | None
    warnings: str
    speaker: str | None = None  # None: the owner; else the character whose voice this is

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Clip:
    id: str
    source_id: str
    emotion: str
    path: str  # relative to profile.voice_dir
    start_s: float
    end_s: float
    duration_s: float
    transcript: str | None
    confidence: float | None
    quality: float
    reasons: list[str]
    metrics: dict[str, Any]
    excluded: bool
    created_at: str
    speaker: str | None = None  # None: the owner; else the character whose voice this is

    def abspath(self, profile: Profile) -> Path:
        return profile.voice_dir / self.path

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def iter_audio_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named directly, and audio files (by suffix) found under folders, sorted, each once."""
    seen: set[Path] = set()
    for p in map(Path, paths):
        found = (
            sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES) if p.is_dir() else [p]
        )
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                yield f


def pick_emotion(path: Path, flag: str | None, config: VoiceConfig) -> tuple[str, list[str]]:
    """Emotion from the flag, else the parent folder when it names a known emotion, else 'neutral'."""
    if flag:
        return check_name(flag.strip().lower(), "emotion"), []
    parent = re.sub(r"[^a-z0-9_-]", "", path.parent.name.lower())
    if parent in config.emotions:
        return parent, []
    return "neutral", [f"no emotion given and folder '{path.parent.name}' is not a known emotion: tagged neutral"]


def _safe_filename(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "audio"
    return stem[-100:]


def import_one(
    conn: sqlite3.Connection, profile: Profile, path: Path, emotion: str | None, config: VoiceConfig
) -> ImportResult:
    """Validate one file from its header, copy it read-only into voice/raw/ and record it."""
    result = ImportResult(path=str(path), status="error")
    try:
        info: AudioInfo = probe(path, config.limits)
        emo, warnings = pick_emotion(path, emotion, config)
        if info.sample_rate < config.prepare.min_source_rate:
            warnings.append(
                f"recorded at {info.sample_rate} Hz, below the recommended "
                f"{config.prepare.min_source_rate} Hz: quality will suffer"
            )
        result.emotion, result.info, result.warnings = emo, info.to_dict(), warnings
        digest = _sha256(path)
        row = conn.execute("SELECT id FROM voice_sources WHERE sha256 = ?", (digest,)).fetchone()
        if row:
            result.status, result.source_id = "duplicate", row["id"]
            return result
        sid = new_id()
        rel = Path("raw") / emo / f"{digest[:12]}-{_safe_filename(path.name)}"
        dest = profile.voice_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o400)
        os.replace(tmp, dest)
        conn.execute(
            "INSERT INTO voice_sources (id, sha256, original_name, stored_path, emotion, format, sample_rate,"
            " channels, duration_s, imported_at, warnings) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                sid,
                digest,
                path.name,
                rel.as_posix(),
                emo,
                info.format,
                info.sample_rate,
                info.channels,
                info.duration_s,
                now_iso(),
                json.dumps(warnings),
            ),
        )
        conn.commit()
        result.status, result.source_id = "imported", sid
    except TwinError as exc:
        result.error = exc.to_dict()
    except OSError as exc:
        result.error = {
            "code": "io_error",
            "message": f"{path}: {exc.strerror or exc}",
            "hint": "Check the file's permissions and the disk space.",
        }
    return result


def import_files(
    profile: Profile,
    paths: Iterable[str | os.PathLike[str]],
    emotion: str | None = None,
    config: VoiceConfig | None = None,
) -> list[ImportResult]:
    """Import every file (folders are walked); one result per file, never raising for a bad file."""
    config = config or load_voice_config(profile)
    if emotion:
        check_name(emotion.strip().lower(), "emotion")
    conn = connect(profile)
    try:
        return [import_one(conn, profile, p, emotion, config) for p in iter_audio_files(paths)]
    finally:
        conn.close()


def _source(row: sqlite3.Row) -> Source:
    return Source(**dict(row))


def list_sources(profile: Profile, pending_only: bool = False) -> list[Source]:
    conn = connect(profile)
    try:
        sql = "SELECT * FROM voice_sources"
        sql += " WHERE prepared_at IS NULL" if pending_only else ""
        return [_source(r) for r in conn.execute(sql + " ORDER BY imported_at, id")]
    finally:
        conn.close()


def _clip(row: sqlite3.Row) -> Clip:
    d = dict(row)
    d["reasons"] = json.loads(d["reasons"] or "[]")
    d["metrics"] = json.loads(d["metrics"] or "{}")
    d["excluded"] = bool(d["excluded"])
    return Clip(**d)


def list_clips(
    profile: Profile, emotion: str | None = None, include_excluded: bool = True, speaker: str | None = None
) -> list[Clip]:
    """Clips of one speaker (default the owner), best quality first."""
    conn = connect(profile)
    try:
        sql, args = "SELECT * FROM voice_clips WHERE speaker IS ?", [speaker]
        if emotion:
            sql += " AND emotion = ?"
            args.append(emotion)
        if not include_excluded:
            sql += " AND excluded = 0"
        return [_clip(r) for r in conn.execute(sql + " ORDER BY quality DESC, id", args)]
    finally:
        conn.close()


def get_clip(profile: Profile, clip_id: str) -> Clip:
    check_id(clip_id, "clip id")
    conn = connect(profile)
    try:
        row = conn.execute("SELECT * FROM voice_clips WHERE id = ?", (clip_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise NotFound(f"No clip {clip_id} in profile '{profile.name}'.", "List clips with: twin voice status")
    return _clip(row)


def clip_relpath(emotion: str, clip_id: str) -> str:
    return (Path("clean") / check_name(emotion, "emotion") / f"{check_id(clip_id, 'clip id')}.wav").as_posix()


def replace_clips(conn: sqlite3.Connection, profile: Profile, source_id: str, clips: list[dict[str, Any]]) -> None:
    """Swap a source's clips for new ones (rows and files) and mark it prepared, in one transaction."""
    old = [r["path"] for r in conn.execute("SELECT path FROM voice_clips WHERE source_id = ?", (source_id,))]
    row = conn.execute("SELECT speaker FROM voice_sources WHERE id = ?", (source_id,)).fetchone()
    speaker = row["speaker"] if row else None  # clips are always the voice of their recording
    with conn:
        conn.execute("DELETE FROM voice_clips WHERE source_id = ?", (source_id,))
        for c in clips:
            conn.execute(
                "INSERT INTO voice_clips (id, source_id, emotion, path, start_s, end_s, duration_s, transcript,"
                " confidence, quality, reasons, metrics, excluded, created_at, speaker)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    c["id"],
                    source_id,
                    c["emotion"],
                    c["path"],
                    c["start_s"],
                    c["end_s"],
                    c["duration_s"],
                    c.get("transcript"),
                    c.get("confidence"),
                    c["quality"],
                    json.dumps(c.get("reasons", [])),
                    json.dumps(c.get("metrics", {})),
                    int(c["excluded"]),
                    now_iso(),
                    speaker,
                ),
            )
        conn.execute(
            "UPDATE voice_sources SET prepared_at = ?, prepare_error = NULL WHERE id = ?", (now_iso(), source_id)
        )
    keep = {c["path"] for c in clips}
    for rel in old:
        if rel not in keep:
            (profile.voice_dir / rel).unlink(missing_ok=True)


def mark_failed(conn: sqlite3.Connection, source_id: str, error: dict[str, str]) -> None:
    with conn:
        conn.execute("UPDATE voice_sources SET prepare_error = ? WHERE id = ?", (json.dumps(error), source_id))


def source_path(profile: Profile, source: Source) -> Path:
    path = (profile.voice_dir / source.stored_path).resolve()
    if not path.is_relative_to(profile.voice_dir.resolve()):
        raise InvalidInput(f"Stored path {source.stored_path} escapes the profile.", "The database is corrupt.")
    return path
