"""A character's clips into the profile's voice library (tagged with the character, never mixed into the
owner's voice), and a voice profile for the character built by twin.voice: the same reference
selection as the owner's voice, the trained converter, and the similarity evaluation on held-out clips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from twin.errors import InvalidInput
from twin.ids import new_id
from twin.media.export import Clip
from twin.media.progress import ProgressFn, silent
from twin.media.project import Project, slug
from twin.store.db import connect

MIN_VOICE_S = 20.0  # the least clean speech a character voice is built from
GOOD_VOICE_S = 60.0
MIN_VOICE_CLIPS = 5


def load_export(project: Project, name: str) -> list[Clip]:
    path = project.path("clips") / slug(name) / "clips.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Clip(**c) for c in data["clips"]]


def check_enough(name: str, clips: list[Clip]) -> None:
    kept = [c for c in clips if c.kept and c.file]
    total = sum(c.duration for c in kept)
    if total < MIN_VOICE_S or len(kept) < MIN_VOICE_CLIPS:
        dropped = len(clips) - len(kept)
        raise InvalidInput(
            f"{name} has {total:.1f} s of clean speech in {len(kept)} clip(s) ({dropped} dropped); a voice needs at "
            f"least {MIN_VOICE_S:.0f} s in {MIN_VOICE_CLIPS} clips ({GOOD_VOICE_S:.0f} s or more sounds much better).",
            "Use a longer film or more of it, add that character's scenes from other episodes, check the dropped "
            "clips' reasons in clips.json, or move wrongly assigned segments to the character (twin media relabel).",
        )


def import_to_library(project: Project, name: str, clips: list[Clip]) -> list[str]:
    """Add the kept clips to the voice library as the character's (speaker = name); returns library clip ids.
    Re-importing the same clip is a no-op (the library deduplicates by content)."""
    from twin.voice import library
    from twin.voice.config import load_voice_config

    profile = project.profile
    config = load_voice_config(profile)
    conn = connect(profile)
    ids = []
    try:
        for clip in clips:
            if not (clip.kept and clip.file and Path(clip.file).is_file()):
                continue
            result = library.import_one(conn, profile, Path(clip.file), "neutral", config)
            if result.status == "error" or result.source_id is None:
                continue
            sid = result.source_id
            with conn:
                conn.execute("UPDATE voice_sources SET speaker = ? WHERE id = ?", (name, sid))
            if result.status == "duplicate":
                row = conn.execute("SELECT id FROM voice_clips WHERE source_id = ?", (sid,)).fetchone()
                if row:
                    ids.append(row["id"])
                    continue
            ids.append(_add_clip(conn, profile, sid, clip, project.id))
    finally:
        conn.close()
    return ids


def _add_clip(conn: Any, profile: Any, source_id: str, clip: Clip, project_id: str) -> str:
    from twin.voice import library

    cid = new_id()
    rel = library.clip_relpath("neutral", cid)
    dest = profile.voice_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip.file or "", dest)
    library.replace_clips(
        conn,
        profile,
        source_id,
        [
            {
                "id": cid,
                "emotion": "neutral",
                "path": rel,
                "start_s": clip.start,
                "end_s": clip.end,
                "duration_s": round(clip.duration, 3),
                "transcript": clip.text or None,
                "confidence": 1.0 if clip.text else None,
                "quality": clip.quality.get("score", 0.0),
                "reasons": [],
                "metrics": {**clip.quality, "media_project": project_id, "media_clip": clip.id},
                "excluded": False,
            }
        ],
    )
    return cid


def train_character_voice(
    project: Project, name: str, clips: list[Clip], evaluate: bool = True, progress: ProgressFn = silent
) -> dict[str, Any]:
    """Voice profile (references from the library as for the owner) + trained converter + evaluation."""
    from twin.voice.clone.training import library_utterances, reference_hashes, split_utterances, train_voice
    from twin.voice.eval import evaluate_voice
    from twin.voice.profiles import create_voice
    from twin.voice.synth.voices import voice_folder

    check_enough(name, clips)
    profile = project.profile
    library_ids = import_to_library(project, name, clips)
    voice = create_voice(profile, name=name, from_library=True, speaker=name)
    utts = library_utterances(profile, speaker=name)
    report = train_voice(profile, voice.id, utterances=utts, progress=lambda i, n: progress(f"voice of {name}", i, n))
    result: dict[str, Any] = {"voice_id": voice.id, "library_clips": len(library_ids), "train": report.to_dict()}
    if evaluate:
        _, held = split_utterances(utts, reference_hashes(voice_folder(profile, voice.id)))
        if held:
            result["eval"] = evaluate_voice(profile, voice.id, owner_clips=[u.path for u in held]).to_dict()
            result["eval"].pop("details", None)
        else:
            result["eval"] = None
            result["note"] = "no held-out clip was left for the similarity evaluation"
    return result
