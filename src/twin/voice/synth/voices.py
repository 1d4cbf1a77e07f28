"""Resolve "who speaks" into a VoiceSpec, and hash what the voice sounds like (for the cache).

Reads the voice library's on-disk layout: `profile.voice_dir/profiles/<voice_id>/` with voice.json,
reference.wav, references/<emotion>.wav and (after `twin voice train`) converter/. An uploaded reference
clip is trimmed and stored content-addressed under `voice_dir/cache/refs/` (bounded, see synth/refs.py)
so path-based engines can read it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import InvalidInput, NotFound
from twin.ids import check_name
from twin.profiles import Profile
from twin.providers.tts import VoiceSpec

CONVERTER_DIR = "converter"
REFERENCE_RATE = 22050


def voices_root(profile: Profile) -> Path:
    return profile.voice_dir / "profiles"


def voice_folder(profile: Profile, voice_id: str) -> Path:
    return voices_root(profile) / check_name(voice_id, "voice id")


def read_voice_meta(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "voice.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def default_voice(profile: Profile) -> str | None:
    """The voice marked default in voice.json, else the only voice, else None."""
    root = voices_root(profile)
    if not root.is_dir():
        return None
    folders = sorted(p for p in root.iterdir() if (p / "voice.json").is_file())
    for folder in folders:
        if read_voice_meta(folder).get("default"):
            return folder.name
    return folders[0].name if len(folders) == 1 else None


@dataclass
class ResolvedVoice:
    spec: VoiceSpec
    hash: str
    emotion_used: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        if path.is_file():
            h.update(path.name.encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:32]


def _pick_reference(folder: Path, emotion: str | None) -> tuple[Path | None, str | None]:
    if emotion:
        clip = folder / "references" / f"{check_name(emotion.lower(), 'emotion')}.wav"
        if clip.is_file():
            return clip, emotion.lower()
    ref = folder / "reference.wav"
    return (ref if ref.is_file() else None), None


def resolve_voice(
    profile: Profile, voice_id: str | None, emotion: str | None = None, language: str = "en"
) -> ResolvedVoice:
    if voice_id is None:
        return ResolvedVoice(VoiceSpec(language=language), hash="base")
    folder = voice_folder(profile, voice_id)
    if not folder.is_dir():
        raise NotFound(
            f"Voice '{voice_id}' does not exist in profile '{profile.name}'.",
            "List voices with `twin voice list`, or create one with `twin voice create`.",
        )
    meta = read_voice_meta(folder)
    ref, used = _pick_reference(folder, emotion)
    ref_text = meta.get("reference_text") or meta.get("transcript")
    if used:
        ref_text = (meta.get("reference_texts") or {}).get(used, ref_text)
    tracked = [folder / "reference.wav", *(folder / "references").glob("*.wav"), *(folder / CONVERTER_DIR).glob("*")]
    converter = folder / CONVERTER_DIR
    spec = VoiceSpec(
        voice_id=voice_id,
        voice_dir=folder,
        reference_audio=ref,
        reference_text=ref_text,
        language=meta.get("language", language) or language,
        converter_dir=converter if converter.is_dir() else None,
    )
    return ResolvedVoice(spec, hash=_hash_files(tracked), emotion_used=used, meta=meta)


def resolve_reference(
    profile: Profile, audio: bytes | Path, text: str | None = None, language: str = "en", name: str | None = None
) -> ResolvedVoice:
    """A one-off reference clip (upload or path): refused from its header when longer than the voice
    config's reference.max_input_s, else trimmed to the reference.max_s window with the most speech and
    stored by content in the bounded reference cache. `name` is how errors refer to it."""
    from twin.voice.config import load_voice_config
    from twin.voice.reference import check_reference, load_reference
    from twin.voice.synth.refs import ReferenceCache, content_digest

    if isinstance(audio, bytes | bytearray) and not audio:
        raise InvalidInput("The reference audio is empty.", "Send a WAV/MP3 clip of 10-30 s of speech.")
    config = load_voice_config(profile)
    check_reference(audio, config, name)
    ref = config.reference
    settings = f"{ref.max_s}|{config.prepare.vad.backend}|{config.prepare.vad.threshold}|{REFERENCE_RATE}"
    digest = content_digest(audio, settings)
    cache = ReferenceCache(profile.voice_dir / "cache" / "refs", int(ref.cache_max_mb * 1024**2))
    path = cache.get(digest)
    if path is None:
        clip = load_reference(audio, config, sr=REFERENCE_RATE, name=name)
        path = cache.put(digest, clip.audio, clip.sample_rate)
    spec = VoiceSpec(reference_audio=path, reference_text=text, language=language)
    return ResolvedVoice(spec, hash=f"ref-{digest}")
