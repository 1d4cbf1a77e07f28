"""Media projects of the key's profile, for review in the web UI: projects, segments per character,
segment audio, corrections (reassign, drop, edit text, name a speaker), and the per-character actions
(export, train-voice, persona), which run in a worker thread. Paths in answers are relative to the project."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from twin.api.deps import ProfileDep
from twin.api.schemas import NOT_FOUND as _NOT_FOUND
from twin.errors import InvalidInput
from twin.profiles import Profile

router = APIRouter(tags=["media"])

ProjectId = Annotated[str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
SegmentId = Annotated[str, Path(pattern=r"^s\d{5}$")]
SpeakerId = Annotated[str, Path(pattern=r"^S\d{1,3}$")]
MAX_SEGMENT_AUDIO_S = 60.0
NOT_FOUND: dict[int | str, dict[str, Any]] = {k: v for k, v in _NOT_FOUND.items()}


class SegmentFix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    character: str | None = Field(None, max_length=60, description="Move the segment to this character.")
    dropped: bool | None = Field(None, description="Drop (true) or restore (false) the segment.")
    text: str | None = Field(None, max_length=2000, description="Replace the segment's text.")


class SpeakerName(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60, description="The character's name; an existing name merges.")


class CharacterAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    character: str = Field(min_length=1, max_length=60)
    format: Literal["ljspeech", "library"] = "ljspeech"
    denoise: bool = False


def _project(profile: Profile, project_id: str) -> Any:
    from twin.media.project import get_project

    return get_project(profile, project_id)


def _rel(project: Any, value: Any) -> Any:
    """Server paths in a report become paths relative to the project folder (or just the file name)."""
    if isinstance(value, dict):
        return {k: _rel(project, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rel(project, v) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        p = FsPath(value)
        return str(p.relative_to(project.dir)) if p.is_relative_to(project.dir) else p.name
    return value


@router.get("/api/media/projects", summary="Media projects")
async def list_projects(profile: ProfileDep) -> dict[str, Any]:
    from twin.media.project import list_projects as all_projects

    metas = await asyncio.to_thread(all_projects, profile)
    return {
        "projects": [
            {
                "id": m.id,
                "title": m.title,
                "created": m.created,
                "duration_s": m.source.duration_s,
                "stages": {k: v.status for k, v in m.stages.items()},
            }
            for m in metas
        ]
    }


@router.get("/api/media/projects/{project_id}", responses=NOT_FOUND, summary="One project with its characters")
async def get_project(project_id: ProjectId, profile: ProfileDep) -> dict[str, Any]:
    from twin.media import characters, service

    project = _project(profile, project_id)
    meta = project.load()
    chars = await asyncio.to_thread(characters.summary, project) if project.has("segments.json") else []
    return _rel(
        project,
        {
            "id": meta.id,
            "title": meta.title,
            "duration_s": meta.source.duration_s,
            "stages": {k: {"status": v.status, "error": v.error} for k, v in meta.stages.items()},
            "characters": chars,
            "voices": service.voices(project),
        },
    )


@router.get("/api/media/projects/{project_id}/segments", responses=NOT_FOUND, summary="Segments with their characters")
async def list_segments(project_id: ProjectId, profile: ProfileDep) -> dict[str, Any]:
    from twin.media.characters import character_of
    from twin.media.segments import load_segments

    project = _project(profile, project_id)
    segs = load_segments(project)
    rows = [{**s.to_dict(), "character": character_of(s), "named": s.character is not None} for s in segs]
    for r in rows:
        r.pop("words", None)
    return {"segments": rows, "duration_s": project.load().source.duration_s}


@router.get(
    "/api/media/projects/{project_id}/segments/{segment_id}/audio",
    responses={**NOT_FOUND, 200: {"content": {"audio/wav": {}}}},
    response_class=Response,
    summary="The segment's audio as WAV",
)
async def segment_audio(project_id: ProjectId, segment_id: SegmentId, profile: ProfileDep) -> Response:
    import soundfile as sf

    from twin.media.audio import AudioFile
    from twin.media.segments import find_segment, load_segments

    project = _project(profile, project_id)
    seg = find_segment(load_segments(project), segment_id)
    if seg.duration > MAX_SEGMENT_AUDIO_S:
        raise InvalidInput("The segment is too long to play here.", "Play it from segments.json times in a player.")
    audio = AudioFile(project.audio_hq if project.audio_hq.is_file() else project.audio)
    samples = await asyncio.to_thread(audio.read, seg.start, seg.end)
    buf = io.BytesIO()
    sf.write(buf, samples, audio.sample_rate, format="WAV", subtype="PCM_16")
    return Response(buf.getvalue(), media_type="audio/wav")


@router.post("/api/media/projects/{project_id}/segments/{segment_id}", responses=NOT_FOUND, summary="Correct a segment")
async def fix_segment(
    project_id: ProjectId, segment_id: SegmentId, body: SegmentFix, profile: ProfileDep
) -> dict[str, Any]:
    from twin.media.characters import relabel

    project = _project(profile, project_id)
    seg = await asyncio.to_thread(relabel, project, segment_id, body.character, body.dropped, body.text)
    return {k: v for k, v in seg.to_dict().items() if k != "words"}


@router.post("/api/media/projects/{project_id}/speakers/{speaker}/name", responses=NOT_FOUND, summary="Name a speaker")
async def name_speaker(
    project_id: ProjectId, speaker: SpeakerId, body: SpeakerName, profile: ProfileDep
) -> dict[str, Any]:
    from twin.media.characters import set_name

    return await asyncio.to_thread(set_name, _project(profile, project_id), speaker, body.name)


@router.post("/api/media/projects/{project_id}/export", responses=NOT_FOUND, summary="Export a character's clips")
async def export(project_id: ProjectId, body: CharacterAction, profile: ProfileDep) -> dict[str, Any]:
    from twin.media import service

    project = _project(profile, project_id)
    report = await asyncio.to_thread(service.export, project, body.character, body.format, None, body.denoise)
    return _rel(project, report)


@router.post("/api/media/projects/{project_id}/train-voice", responses=NOT_FOUND, summary="Make the character's voice")
async def train_voice(project_id: ProjectId, body: CharacterAction, profile: ProfileDep) -> dict[str, Any]:
    from twin.media import service

    project = _project(profile, project_id)
    return _rel(project, await asyncio.to_thread(service.train_voice, project, body.character))


@router.post("/api/media/projects/{project_id}/persona", responses=NOT_FOUND, summary="Make the character's persona")
async def persona(project_id: ProjectId, body: CharacterAction, profile: ProfileDep) -> dict[str, Any]:
    from twin.media import service

    project = _project(profile, project_id)
    report = await asyncio.to_thread(service.persona, project, body.character)
    report.pop("dataset_dir", None)
    report["persona_store"] = {k: v for k, v in report["persona_store"].items() if k != "import"}
    return _rel(project, report)
