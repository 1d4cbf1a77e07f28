"""The per-character operations and the whole run, as the CLI and the API call them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from twin.errors import InvalidInput
from twin.media import characters, stages
from twin.media.export import Clip, ExportOptions, export_clips, seconds
from twin.media.link import publish_persona
from twin.media.persona import build_draft, write_persona
from twin.media.progress import ProgressFn, silent
from twin.media.project import Project, check_character, slug
from twin.media.voice import import_to_library, load_export, train_character_voice
from twin.profiles import Profile
from twin.providers import registry

ExportFormat = Literal["ljspeech", "library"]


def clip_json(c: Clip) -> dict[str, Any]:
    return {
        "id": c.id,
        "file": c.file,
        "start": c.start,
        "end": c.end,
        "text": c.text,
        "speaker": c.speaker,
        "character": c.character,
        "quality": c.quality,
    }


def export(
    project: Project,
    name: str,
    fmt: ExportFormat = "ljspeech",
    out: Path | None = None,
    denoise: bool = False,
    options: ExportOptions | None = None,
    progress: ProgressFn = silent,
) -> dict[str, Any]:
    name = check_character(name)
    key = f"export:{slug(name)}"
    with stages.stage(project, key):
        denoiser = registry.create("denoise", "rnnoise") if denoise else None
        clips, folder = export_clips(
            project,
            name,
            stages.open_speaker("resemblyzer"),
            out if fmt == "ljspeech" else None,
            options,
            denoiser,
            progress,
        )
        kept = [c for c in clips if c.kept]
        report: dict[str, Any] = {
            "character": kept[0].character,
            "format": fmt,
            "folder": str(folder),
            "clips": len(kept),
            "seconds": seconds(clips),
            "dropped": len(clips) - len(kept),
        }
        if fmt == "library":
            report["library_clips"] = len(import_to_library(project, kept[0].character, kept))
    project.finish_stage(key, report)
    return {
        **report,
        "clip_list": [clip_json(c) for c in kept],
        "dropped_list": [clip_json(c) | {"reasons": c.reasons} for c in clips if not c.kept],
    }


def ensure_export(project: Project, name: str, progress: ProgressFn = silent) -> list[Clip]:
    clips = load_export(project, name)
    if not clips:
        export(project, name, progress=progress)
        clips = load_export(project, name)
    return clips


def voices(project: Project) -> dict[str, str]:
    return project.read_json("voices.json") if project.has("voices.json") else {}


def train_voice(project: Project, name: str, evaluate: bool = True, progress: ProgressFn = silent) -> dict[str, Any]:
    name = check_character(name)
    key = f"train-voice:{slug(name)}"
    clips = ensure_export(project, name, progress)
    display = clips[0].character if clips else name
    with stages.stage(project, key):
        report = train_character_voice(project, display, clips, evaluate, progress)
        vs = voices(project)
        vs[display] = report["voice_id"]
        project.write_json("voices.json", vs)
    project.finish_stage(key, report)
    return {"character": display, **report}


def persona(project: Project, name: str, use_llm: bool | None = None) -> dict[str, Any]:
    name = check_character(name)
    key = f"persona:{slug(name)}"
    with stages.stage(project, key):
        vs = {k.lower(): v for k, v in voices(project).items()}
        draft, pairs = build_draft(project, name, vs.get(name.lower()), use_llm)
        files = write_persona(project, draft, pairs)
        link = publish_persona(project.profile, draft, Path(files["card"]))
        report = {
            "character": draft.name,
            "voice_id": draft.voice_id,
            "summarized_by": draft.summarized_by,
            "exchanges": len(pairs),
            "style_rules": draft.style_rules,
            **files,
            "persona_store": link,
        }
    project.finish_stage(key, report)
    return report


def name_character(
    project: Project, name: str, sample_at: float | None = None, reference: Path | None = None
) -> dict[str, Any]:
    if (sample_at is None) == (reference is None):
        raise InvalidInput(
            "Give exactly one of --sample-at SECONDS or --reference CLIP.",
            "Say when the character speaks, or give a clip of their voice.",
        )
    if sample_at is not None:
        return characters.name_by_sample(project, name, sample_at)
    assert reference is not None
    return characters.name_by_reference(project, name, reference, stages.open_speaker("resemblyzer"))


def run(
    profile: Profile,
    movie: Path,
    character: str,
    subtitles: Path | None = None,
    sample_at: float | None = None,
    reference: Path | None = None,
    language: str | None = "en",
    asr: bool | None = None,
    train: bool = True,
    force: bool = False,
    progress: ProgressFn = silent,
) -> dict[str, Any]:
    """Every stage in order; finished stages are skipped, so an interrupted run continues."""
    character = check_character(character)
    if (sample_at is None) == (reference is None):
        raise InvalidInput(
            "Give --sample-at SECONDS or --reference CLIP with --character.",
            "Say when the character speaks, or give a clip of their voice.",
        )
    project, _ = stages.transcribe(profile, movie, subtitles, language=language, asr=asr, progress=progress)
    report: dict[str, Any] = {"project_id": project.id}
    report["align"] = stages.run_stage(project, "align", force, lambda: stages.align(project))
    report["segment"] = stages.run_stage(project, "segment", force, lambda: stages.segment(project, progress=progress))
    report["naming"] = name_character(project, character, sample_at, reference)
    report["export"] = {
        k: v for k, v in export(project, character, progress=progress).items() if not k.endswith("_list")
    }
    if train:
        report["voice"] = train_voice(project, character, progress=progress)
    report["persona"] = persona(project, character)
    report["characters"] = {
        c["character"]: {
            "clips": len([x for x in load_export(project, c["character"]) if x.kept]),
            "seconds": _kept_seconds(project, c["character"]),
        }
        for c in characters.summary(project)
    }
    return report


def _kept_seconds(project: Project, name: str) -> float:
    return seconds(load_export(project, name))
