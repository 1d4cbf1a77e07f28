"""Voice profiles: a reference set and a speaker embedding, on disk under
<profile>/voice/profiles/<voice_id>/ {voice.json, reference.wav, references/<emotion>.wav, embedding.npy}.

A voice is made either from the prepared library (the best 10-30 s per emotion: quality first, then
closeness to the speaker's average embedding) or from one reference recording (an upload)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from twin.audio.decode import load_audio
from twin.audio.encode import save_wav
from twin.errors import InvalidInput, NotFound
from twin.ids import check_id, check_name, new_id
from twin.profiles import Profile, write_text_atomic
from twin.providers import registry
from twin.providers.speaker import cosine
from twin.voice import library
from twin.voice.config import VoiceConfig, load_voice_config
from twin.voice.prepare import steps
from twin.voice.reference import load_reference
from twin.voice.synth import voices

EMBEDDING_FILE = "embedding.npy"


class VoiceProfile(BaseModel):
    id: str
    name: str
    created: str
    source: Literal["library", "reference"]
    references: dict[str, str] = Field(default_factory=dict, description="emotion -> file relative to the voice dir")
    sample_rate: int = 22050
    duration_s: float = 0.0
    quality: float | None = None
    embedding: str = EMBEDDING_FILE
    speaker_backend: str = "resemblyzer"
    clips: dict[str, list[str]] = Field(default_factory=dict, description="emotion -> library clip ids used")
    eval: dict[str, Any] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    default: bool = Field(False, description="This is the profile's default voice (read from defaults.json).")
    trained: bool = Field(False, description="`twin voice train` has trained this voice's converter.")


# Filled in from the profile when a voice is read; never written to voice.json.
_READ_ONLY = {"default", "trained"}


def _write(folder: Path, voice: VoiceProfile) -> None:
    write_text_atomic(folder / "voice.json", voice.model_dump_json(indent=2, exclude=_READ_ONLY))


def _read(profile: Profile, folder: Path, default: str | None) -> VoiceProfile:
    voice = VoiceProfile.model_validate_json((folder / "voice.json").read_text(encoding="utf-8"))
    voice.default = voice.id == default
    voice.trained = voices.has_converter(profile, voice.id)
    return voice


def voices_dir(profile: Profile) -> Path:
    return profile.voice_dir / "profiles"


def voice_dir(profile: Profile, voice_id: str) -> Path:
    return voices_dir(profile) / check_id(voice_id, "voice id")


def get_voice(profile: Profile, voice_id: str) -> VoiceProfile:
    folder = voice_dir(profile, voice_id)
    if not (folder / "voice.json").is_file():
        raise NotFound(f"No voice {voice_id} in profile '{profile.name}'.", "List voices with: twin voice list")
    return _read(profile, folder, voices.default_voice(profile))


def list_voices(profile: Profile) -> list[VoiceProfile]:
    base = voices_dir(profile)
    if not base.is_dir():
        return []
    default = voices.default_voice(profile)
    out = [
        _read(profile, d, default)
        for d in sorted(base.iterdir())
        if (d / "voice.json").is_file() and not d.name.startswith(".")
    ]
    return sorted(out, key=lambda v: (v.created, v.id))


def load_embedding(profile: Profile, voice_id: str) -> np.ndarray:
    return np.load(voice_dir(profile, voice_id) / EMBEDDING_FILE, allow_pickle=False)


def delete_voice(profile: Profile, voice_id: str) -> str | None:
    """Delete a voice; returns the profile's default voice afterwards (another one when this was the
    default, None when no voice is left)."""
    get_voice(profile, voice_id)
    shutil.rmtree(voice_dir(profile, voice_id))
    return voices.forget_voice(profile, voice_id)


def set_default(profile: Profile, voice_id: str) -> VoiceProfile:
    """Make a voice the profile's default voice; returns it."""
    get_voice(profile, voice_id)
    voices.set_default_voice(profile, voice_id)
    return get_voice(profile, voice_id)


def update_voice_meta(
    profile: Profile,
    voice_id: str,
    *,
    name: str | None = None,
    eval: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> VoiceProfile:
    """Rename a voice, set its evaluation results or merge extra fields; returns the saved profile."""
    voice = get_voice(profile, voice_id)
    if name is not None:
        voice.name = _check_voice_name(name)
    if eval is not None:
        voice.eval = eval
    if extra:
        voice.extra.update(extra)
    _write(voice_dir(profile, voice_id), voice)
    return voice


def _check_voice_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 80 or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"'{name}' is not a usable voice name.", "Use 1-80 printable characters.")
    return name


def create_voice(
    profile: Profile,
    name: str | None = None,
    from_library: bool = False,
    reference: Path | bytes | None = None,
    emotion: str | None = None,
    config: VoiceConfig | None = None,
    encoder: Any = None,
    reference_name: str | None = None,
    speaker: str | None = None,
) -> VoiceProfile:
    """Create a voice from the library or from one reference recording (path or bytes); errors about the
    recording call it `reference_name` (default: its file name). `speaker` picks whose library clips are
    used: None is the owner, a name is a character's clips (from a media export)."""
    if from_library == (reference is not None):
        raise InvalidInput(
            "Give exactly one of --from-library or --reference FILE.",
            "Build from your prepared recordings, or from one reference recording.",
        )
    config = config or load_voice_config(profile)
    encoder = encoder or registry.create("speaker", config.reference.speaker_backend)
    vid = new_id()
    final = voice_dir(profile, vid)
    tmp = voices_dir(profile) / f".{vid}.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        if from_library:
            voice = _from_library(profile, tmp, config, encoder, emotion, speaker)
        else:
            assert reference is not None
            voice = _from_reference(tmp, reference, config, encoder, emotion, reference_name)
        voice.id = vid
        voice.name = _check_voice_name(name) if name else f"{profile.name} voice"
        voice.speaker_backend = config.reference.speaker_backend
        _write(tmp, voice)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    voice.default = voices.keep_default(profile) == vid  # the first voice becomes the default
    return voice


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _from_reference(
    out: Path, reference: Path | bytes, config: VoiceConfig, encoder: Any, emotion: str | None, name: str | None
) -> VoiceProfile:
    """The best reference.max_s window of the recording, pauses shortened, loudness normalized."""
    cfg = config.prepare
    emo = check_name(emotion or "neutral", "emotion")
    clip = load_reference(reference, config, sr=cfg.sample_rate, name=name)
    audio, sr = clip.audio, clip.sample_rate
    speech = _speech_regions(audio, sr, config)
    if not speech:
        raise InvalidInput(
            "The reference recording holds no detectable speech.", "Upload 10-30 s of clear speech in a quiet room."
        )
    audio = steps.shorten_pauses(audio, sr, speech, cfg.silence)
    audio = audio[: int(config.reference.max_s * sr)]
    if len(audio) < 2 * sr:
        raise InvalidInput(
            f"The reference holds {len(audio) / sr:.1f} s of speech; at least 2 s is needed.",
            "Upload 10-30 s of clear speech.",
        )
    audio, _ = steps.normalize_loudness(audio, sr, cfg.loudness)
    rel = f"references/{emo}.wav"
    save_wav(out / rel, audio, sr)
    shutil.copyfile(out / rel, out / "reference.wav")
    np.save(out / EMBEDDING_FILE, encoder.embed(audio, sr).astype(np.float32), allow_pickle=False)
    return VoiceProfile(
        id="",
        name="",
        created=_now(),
        source="reference",
        references={emo: rel},
        sample_rate=sr,
        duration_s=round(len(audio) / sr, 2),
    )


def _speech_regions(audio: np.ndarray, sr: int, config: VoiceConfig) -> list[tuple[float, float]]:
    from twin.providers.vad import VADOptions

    v = config.prepare.vad
    vad = registry.create("vad", v.backend)
    return vad.speech_regions(
        audio,
        sr,
        VADOptions(threshold=v.threshold, min_speech_s=v.min_speech_s, min_silence_s=v.min_silence_s, pad_s=v.pad_s),
    )


def _from_library(
    profile: Profile, out: Path, config: VoiceConfig, encoder: Any, only: str | None, speaker: str | None = None
) -> VoiceProfile:
    ref = config.reference
    clips = library.list_clips(profile, emotion=only, include_excluded=False, speaker=speaker)
    if not clips:
        raise NotFound(
            "The voice library has no usable clips"
            + (f" of {speaker}" if speaker else "")
            + (f" for '{only}'." if only else "."),
            "Import recordings with `twin voice import` and run `twin voice prepare` first.",
        )
    by_emotion: dict[str, list[library.Clip]] = {}
    for c in clips:  # already best quality first
        if len(by_emotion.setdefault(c.emotion, [])) < ref.candidates:
            by_emotion[c.emotion].append(c)
    audio: dict[str, np.ndarray] = {}
    embs: dict[str, np.ndarray] = {}
    sr = config.prepare.sample_rate
    for cs in by_emotion.values():
        for c in cs:
            audio[c.id], _ = load_audio(c.abspath(profile), sr=sr, limits=config.limits, name=f"library clip {c.id}")
            embs[c.id] = encoder.embed(audio[c.id], sr)
    centroid = np.mean(np.stack(list(embs.values())), axis=0)
    voice = VoiceProfile(id="", name="", created=_now(), source="library", sample_rate=sr)
    chosen_embs, qualities = [], []
    for emo, cs in sorted(by_emotion.items()):
        ranked = sorted(cs, key=lambda c: -(c.quality + 0.5 * cosine(embs[c.id], centroid)))
        picked = _fill(ranked, ref.min_s, ref.max_s)
        gap = np.zeros(int(0.3 * sr), dtype=np.float32)
        joined = np.concatenate([x for c in picked for x in (audio[c.id], gap)][:-1])
        rel = f"references/{emo}.wav"
        save_wav(out / rel, joined, sr)
        voice.references[emo] = rel
        voice.clips[emo] = [c.id for c in picked]
        chosen_embs += [embs[c.id] for c in picked]
        qualities += [c.quality for c in picked]
    main = "neutral" if "neutral" in voice.references else max(voice.references, key=lambda e: len(voice.clips[e]))
    shutil.copyfile(out / voice.references[main], out / "reference.wav")
    emb = np.mean(np.stack(chosen_embs), axis=0)
    np.save(out / EMBEDDING_FILE, (emb / (np.linalg.norm(emb) or 1.0)).astype(np.float32), allow_pickle=False)
    voice.duration_s = round(len(load_audio(out / "reference.wav")[0]) / sr, 2)
    voice.quality = round(float(np.mean(qualities)), 3)
    return voice


def _fill(ranked: list[library.Clip], min_s: float, max_s: float) -> list[library.Clip]:
    """Best-ranked clips whose total stays within max_s, stopping once min_s is reached."""
    picked: list[library.Clip] = []
    total = 0.0
    for c in ranked:
        if total >= min_s:
            break
        if total + c.duration_s <= max_s or not picked:
            picked.append(c)
            total += c.duration_s + 0.3
    return picked
