"""A media project: `<profile>/media/<project_id>/`, one file per stage, so every stage can be rerun,
inspected and corrected on its own.

    project.json       source, options and the status of every stage
    audio.wav          the chosen soundtrack, 16 kHz mono (analysis)
    audio_hq.wav       the same at 22,050 Hz (the clips are cut from it)
    subtitles.*        the subtitle file used (a copy, or the embedded stream)
    cues.json          subtitle cues as read; aligned_cues.json after `align`
    words.json         ASR words with timestamps (when ASR ran)
    speech.json        VAD speech regions
    embeddings.npz     speaker embeddings per analysis window (no pickles)
    diarization.rttm   the standard RTTM; segments.json with text, words, overlap flag, quality
    characters.json    speaker → character names; corrections.json holds every manual fix
    clips/<character>/ exported clips and clips.json; persona/<character>/ card, draft and dataset
    work/              partial results of an interrupted stage (resumed on the next run)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from twin.errors import InvalidInput, NotFound
from twin.ids import check_id, new_id
from twin.profiles import Profile, write_text_atomic

STAGES = ("transcribe", "align", "segment", "export", "train-voice", "persona")
# Rerunning a stage makes these later stages stale (their files stay, marked for a rerun).
DOWNSTREAM = {"transcribe": ("align", "segment"), "align": ("segment",), "segment": ()}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StageState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field("pending", description="pending | running | done | stale | failed")
    started: str | None = None
    finished: str | None = None
    report: dict[str, Any] = Field(default_factory=dict)
    error: dict[str, str] | None = None


class SourceInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: str
    size_bytes: int
    duration_s: float = 0.0
    audio_stream: int = 0
    streams: list[dict[str, Any]] = Field(default_factory=list)


class ProjectMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    created: str
    source: SourceInfo
    language: str | None = "en"
    subtitles: str | None = Field(None, description="File name of the subtitle copy inside the project.")
    subtitle_encoding: str | None = None
    stages: dict[str, StageState] = Field(default_factory=dict)

    def stage(self, name: str) -> StageState:
        return self.stages.setdefault(name, StageState())


def media_root(profile: Profile) -> Path:
    return profile.root / "media"


@dataclass(frozen=True)
class Project:
    profile: Profile
    id: str

    @property
    def dir(self) -> Path:
        return media_root(self.profile) / check_id(self.id, "media project id")

    def path(self, name: str) -> Path:
        return self.dir / name

    @property
    def work_dir(self) -> Path:
        return self.dir / "work"

    @property
    def audio(self) -> Path:
        return self.dir / "audio.wav"

    @property
    def audio_hq(self) -> Path:
        return self.dir / "audio_hq.wav"

    def load(self) -> ProjectMeta:
        path = self.dir / "project.json"
        if not path.is_file():
            raise NotFound(
                f"No media project {self.id} in profile '{self.profile.name}'.",
                "List projects with: twin media list",
            )
        return ProjectMeta.model_validate_json(path.read_text(encoding="utf-8"))

    def save(self, meta: ProjectMeta) -> None:
        write_text_atomic(self.dir / "project.json", meta.model_dump_json(indent=2))

    def read_json(self, name: str) -> Any:
        path = self.dir / name
        if not path.is_file():
            raise NotFound(f"Project {self.id} has no {name} yet.", _missing_hint(name))
        return json.loads(path.read_text(encoding="utf-8"))

    def write_json(self, name: str, data: Any) -> Path:
        path = self.dir / name
        write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        return path

    def has(self, name: str) -> bool:
        return (self.dir / name).is_file()

    def start_stage(self, name: str) -> ProjectMeta:
        meta = self.load()
        st = meta.stage(name)
        st.status, st.started, st.error = "running", now_iso(), None
        self.save(meta)
        return meta

    def finish_stage(self, name: str, report: dict[str, Any]) -> ProjectMeta:
        meta = self.load()
        st = meta.stage(name)
        st.status, st.finished, st.report, st.error = "done", now_iso(), report, None
        for later in DOWNSTREAM.get(name, ()):
            if meta.stage(later).status == "done":
                meta.stage(later).status = "stale"
        self.save(meta)
        return meta

    def fail_stage(self, name: str, error: dict[str, str]) -> None:
        meta = self.load()
        st = meta.stage(name)
        st.status, st.error = "failed", error
        self.save(meta)

    def done(self, name: str) -> bool:
        return self.load().stage(name).status == "done"


def _missing_hint(name: str) -> str:
    stage = {
        "cues.json": "transcribe with --subtitles",
        "aligned_cues.json": "align",
        "words.json": "transcribe",
        "segments.json": "segment",
        "characters.json": "segment",
    }.get(name, "run")
    return f"Run `twin media {stage} PROJECT` first."


def new_project(profile: Profile, title: str, source: SourceInfo, language: str | None) -> Project:
    project = Project(profile, new_id())
    project.dir.mkdir(parents=True, exist_ok=False)
    os.chmod(project.dir, 0o700)
    meta = ProjectMeta(id=project.id, title=title, created=now_iso(), source=source, language=language)
    project.save(meta)
    return project


def get_project(profile: Profile, project_id: str) -> Project:
    project = Project(profile, check_id(project_id, "media project id"))
    project.load()
    return project


def list_projects(profile: Profile) -> list[ProjectMeta]:
    root = media_root(profile)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if (d / "project.json").is_file():
            try:
                out.append(ProjectMeta.model_validate_json((d / "project.json").read_text(encoding="utf-8")))
            except ValueError:
                continue  # a damaged project.json hides one project, never the list
    return out


def find_for_source(profile: Profile, source: Path) -> Project | None:
    """An existing project made from the same file (same path and size), so `run` resumes it."""
    resolved, size = str(source.resolve()), source.stat().st_size
    for meta in list_projects(profile):
        if meta.source.path == resolved and meta.source.size_bytes == size:
            return Project(profile, meta.id)
    return None


def check_character(name: str) -> str:
    """A character name as typed by the user: 1-60 printable characters, kept as given (trimmed)."""
    clean = " ".join(str(name).split())
    if not clean or len(clean) > 60 or any(ord(c) < 32 for c in clean) or clean.lower() in {"drop", "dropped"}:
        raise InvalidInput(
            f"'{name}' is not a usable character name.", "Use 1-60 printable characters, e.g. Ann or 'Dr. Smith'."
        )
    return clean


def slug(name: str) -> str:
    """A folder-safe form of a character name (lowercase letters, digits, '-')."""
    import re
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]
    return s or "character"
