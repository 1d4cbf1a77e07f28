"""Characters: the speakers found, naming them (by hand, by a moment where they speak, by a reference
clip, or from the subtitles' labels), merging clusters, and moving or dropping single segments.

Names live in corrections.json ("names": speaker → name, "segments": per-segment fixes) and are applied
to segments.json at once, so the files on disk always show the current state."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, NotFound
from twin.media.audio import AudioFile
from twin.media.project import Project, check_character, slug
from twin.media.segments import (
    Segment,
    apply_corrections,
    check_segment_id,
    find_segment,
    load_corrections,
    load_segments,
    save_corrections,
    save_segments,
)
from twin.providers.speaker import SpeakerEncoder

MIN_LABEL_SHARE = 0.5


def label_names(segs: list[Segment]) -> dict[str, str]:
    """speaker → the subtitle label most of its labelled segments carry (when most of them agree)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for s in segs:
        for lab in s.labels:
            votes[s.speaker][lab] += 1
    out = {}
    for spk, counter in votes.items():
        label, n = counter.most_common(1)[0]
        if n >= 2 and n / sum(counter.values()) >= MIN_LABEL_SHARE:
            out[spk] = label
    return out


def refresh(project: Project, segs: list[Segment] | None = None) -> list[Segment]:
    """Re-apply corrections to segments.json (and the RTTM) and return the segments."""
    segs = segs if segs is not None else load_segments(project)
    corr = load_corrections(project)
    apply_corrections(segs, corr["names"], corr["segments"])
    save_segments(project, segs)
    project.write_json("characters.json", {"names": corr["names"], "characters": summary(project, segs=segs)})
    return segs


def set_name(project: Project, speaker: str, name: str) -> dict[str, Any]:
    """Name a speaker (cluster). Naming a second cluster with an existing name merges them."""
    name = check_character(name)
    segs = load_segments(project)
    speakers = {s.speaker for s in segs}
    corr = load_corrections(project)
    if speaker in speakers:
        targets = [speaker]
    else:  # rename by the current character name: every cluster carrying it
        targets = [k for k, v in corr["names"].items() if v.lower() == speaker.lower()]
    if not targets:
        raise NotFound(
            f"No speaker '{speaker}' in this project (speakers: {', '.join(sorted(speakers)) or 'none'}).",
            "See who is who with: twin media characters PROJECT",
        )
    for t in targets:
        corr["names"][t] = name
    save_corrections(project, corr)
    refresh(project, segs)
    merged = sorted(k for k, v in corr["names"].items() if v == name)
    return {"speaker": targets[0], "character": name, "speakers": merged}


def speaker_at(segs: list[Segment], t: float, duration_s: float) -> str:
    """The speaker of the segment playing at `t` (not an overlap); a clear error when nobody speaks then."""
    if not 0 <= t <= duration_s:
        raise InvalidInput(
            f"--sample-at {t:g} s is outside the soundtrack (0-{duration_s:.1f} s).", "Give a time inside the film."
        )
    live = [s for s in segs if s.start - 0.15 <= t <= s.end + 0.15 and not s.dropped]
    solo = [s for s in live if not s.overlap]
    if solo:
        return min(solo, key=lambda s: abs((s.start + s.end) / 2 - t)).speaker
    if live:
        raise InvalidInput(
            f"At {t:g} s two people speak at once, so it does not tell whose voice it is.",
            "Pick a moment where only that character speaks.",
        )
    near = min(segs, key=lambda s: min(abs(s.start - t), abs(s.end - t)), default=None)
    hint = "Pick a moment where that character speaks."
    if near is not None:
        hint += f" The nearest speech is {near.start:.1f}-{near.end:.1f} s ({near.character or near.speaker})."
    raise InvalidInput(f"Nobody speaks at {t:g} s.", hint)


def name_by_sample(project: Project, name: str, t: float) -> dict[str, Any]:
    segs = load_segments(project)
    spk = speaker_at(segs, t, AudioFile(project.audio).duration_s)
    return {**set_name(project, spk, name), "method": "sample-at", "at": t}


def centroids(project: Project) -> dict[str, np.ndarray]:
    with np.load(project.path("embeddings.npz"), allow_pickle=False) as z:
        cents = z["centroids"]
    return {f"S{i + 1}": cents[i] for i in range(len(cents))}


def name_by_reference(project: Project, name: str, clip: Path, encoder: SpeakerEncoder) -> dict[str, Any]:
    from twin.audio.decode import load_audio

    audio, sr = load_audio(clip, sr=16000)
    ref = encoder.embed(audio, sr)
    cents = centroids(project)
    sims = {spk: float(ref @ c) for spk, c in cents.items()}
    best = max(sims, key=lambda k: sims[k])
    ranked = sorted(sims.values(), reverse=True)
    if sims[best] < 0.6:
        raise InvalidInput(
            f"{clip.name} sounds like none of the speakers (best similarity {sims[best]:.2f}, with {best}).",
            "Use a clean clip of that character from this film, or name the speaker with --sample-at.",
        )
    out = set_name(project, best, name)
    margin = ranked[0] - ranked[1] if len(ranked) > 1 else 1.0
    return {**out, "method": "reference", "similarity": round(sims[best], 3), "margin": round(margin, 3)}


def relabel(
    project: Project, segment_id: str, name: str | None, dropped: bool | None = None, text: str | None = None
) -> Segment:
    """Move one segment to a character (a name or a speaker id), drop/restore it, or edit its text."""
    check_segment_id(segment_id)
    segs = load_segments(project)
    seg = find_segment(segs, segment_id)
    fix: dict[str, Any] = {"start": seg.start, "end": seg.end}
    if name is not None:
        if name.lower() in ("drop", "dropped"):
            fix["dropped"] = True
        else:
            names = load_corrections(project)["names"]
            fix["character"] = names.get(name, name) if name in {s.speaker for s in segs} else check_character(name)
    if dropped is not None:
        fix["dropped"] = dropped
    if text is not None:
        if len(text) > 2000:
            raise InvalidInput("The segment text is too long (over 2,000 characters).", "Shorten it.")
        fix["text"] = " ".join(text.split())
    corr = load_corrections(project)
    corr["segments"] = [f for f in corr["segments"] if (f["start"], f["end"]) != (seg.start, seg.end)] + [
        _merge_fix(corr["segments"], fix)
    ]
    save_corrections(project, corr)
    return find_segment(refresh(project, segs), segment_id)


def _merge_fix(fixes: list[dict[str, Any]], fix: dict[str, Any]) -> dict[str, Any]:
    old = next((f for f in fixes if (f["start"], f["end"]) == (fix["start"], fix["end"])), {})
    return {**old, **fix}


def character_of(s: Segment) -> str:
    return s.character or s.speaker


def summary(project: Project, samples: int = 3, segs: list[Segment] | None = None) -> list[dict[str, Any]]:
    """One entry per character (or unnamed speaker): speech time, sample lines, a short sample clip."""
    segs = segs if segs is not None else load_segments(project)
    by: dict[str, list[Segment]] = defaultdict(list)
    for s in segs:
        if not s.dropped:
            by[character_of(s)].append(s)
    out = []
    for who, ss in sorted(by.items(), key=lambda kv: -sum(s.duration for s in kv[1] if not s.overlap)):
        solo = [s for s in ss if not s.overlap]
        lines = sorted((s for s in solo if s.text), key=lambda s: (-len(s.text), s.start))[:samples]
        out.append(
            {
                "character": who,
                "named": any(s.character for s in ss),
                "speakers": sorted({s.speaker for s in ss}),
                "speech_s": round(sum(s.duration for s in solo), 1),
                "overlap_s": round(sum(s.duration for s in ss if s.overlap), 1),
                "segments": len(ss),
                "lines": [
                    {"segment": s.id, "start": s.start, "end": s.end, "text": s.text}
                    for s in sorted(lines, key=lambda s: s.start)
                ],
                "sample_clip": str(_sample_clip(project, who, solo)) if solo else None,
            }
        )
    return out


def _sample_clip(project: Project, who: str, solo: list[Segment]) -> Path:
    """A 2-6 s clip of the character's clearest segment, under samples/ (made once per segment)."""
    from twin.audio.encode import save_wav

    best = max(solo, key=lambda s: (min(s.duration, 6.0) >= 2.0, s.quality, s.duration))
    path = project.path("samples") / f"{slug(who)}-{best.id}.wav"
    if not path.is_file():
        audio = AudioFile(project.audio)
        save_wav(path, audio.read(best.start, min(best.end, best.start + 6.0)), audio.sample_rate)
    return path
