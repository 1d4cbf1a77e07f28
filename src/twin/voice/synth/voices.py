"""Resolve "who speaks" into a VoiceSpec, and hash what the voice sounds like (for the cache).

Reads the voice library's on-disk layout: `profile.voice_dir/profiles/<voice_id>/` with voice.json,
reference.wav, references/<emotion>.wav and (after `twin voice train`) converter/. An uploaded reference
clip is trimmed and stored content-addressed under `voice_dir/cache/refs/` (bounded, see synth/refs.py)
so path-based engines can read it.

No voice id (or "default") means the profile's default voice: the one chosen with `twin voice default`,
else the first voice made. "base" means the engine's plain base voice. The default and the aliases
(names such as OpenAI's "alloy" that stand for one of the profile's voices) live in
`voice_dir/defaults.json`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.errors import InvalidInput, NotFound
from twin.ids import check_name
from twin.profiles import Profile, write_text_atomic
from twin.providers.tts import VoiceSpec

CONVERTER_DIR = "converter"
DEFAULTS_FILE = "defaults.json"
DEFAULT_VOICE = "default"
BASE_VOICE = "base"
# The voice names of OpenAI's speech API, which clients built for it (Open WebUI, SillyTavern, the
# openai SDK's examples) send; unless defaults.json maps one elsewhere, each means the default voice.
OPENAI_VOICES = (
    "alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage", "shimmer", "verse",
)  # fmt: skip
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


def voice_metas(profile: Profile) -> list[tuple[str, dict[str, Any]]]:
    """(voice id, voice.json) of every voice of the profile, oldest first."""
    root = voices_root(profile)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if folder.name.startswith(".") or not (folder / "voice.json").is_file():
            continue
        meta = read_voice_meta(folder)
        found.append((str(meta.get("created", "")), folder.name, meta))
    return [(vid, meta) for _, vid, meta in sorted(found, key=lambda t: (t[0], t[1]))]


def voice_emotions(profile: Profile, voice_id: str) -> list[str]:
    """The emotions a voice has a reference clip for."""
    return sorted(p.stem for p in (voice_folder(profile, voice_id) / "references").glob("*.wav"))


def has_converter(profile: Profile, voice_id: str) -> bool:
    """True once `twin voice train` has trained the voice's converter."""
    return any((voice_folder(profile, voice_id) / CONVERTER_DIR).glob("*"))


# ---- which voice speaks when none is named ---------------------------------------------------------


class VoiceDefaults(BaseModel):
    """voice_dir/defaults.json: the default voice and the voice aliases of a profile."""

    model_config = ConfigDict(extra="forbid")

    default_voice: str | None = Field(None, description="Voice id that speaks when a request names no voice.")
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Alias -> voice id, 'default' or 'base'. OpenAI voice names not listed here mean 'default'.",
    )


def load_defaults(profile: Profile) -> VoiceDefaults:
    path = profile.voice_dir / DEFAULTS_FILE
    if not path.is_file():
        return VoiceDefaults()
    try:
        return VoiceDefaults.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        raise InvalidInput(
            f"The voice settings file ({DEFAULTS_FILE}) of profile '{profile.name}' is damaged.",
            "Delete voice/defaults.json in the profile and choose the default again with `twin voice default ID`.",
        ) from None


def _save_defaults(profile: Profile, defaults: VoiceDefaults) -> None:
    write_text_atomic(profile.voice_dir / DEFAULTS_FILE, defaults.model_dump_json(indent=2))


def default_voice(profile: Profile) -> str | None:
    """The voice chosen as default, else the first voice made, else None (no voices: the base voice)."""
    ids = [vid for vid, _ in voice_metas(profile)]
    chosen = load_defaults(profile).default_voice
    if chosen in ids:
        return chosen
    return ids[0] if ids else None


def _existing(profile: Profile, voice_id: str) -> str:
    if check_name(voice_id, "voice id") not in {vid for vid, _ in voice_metas(profile)}:
        raise NotFound(
            f"Voice '{voice_id}' does not exist in profile '{profile.name}'.",
            "List voices with `twin voice list` (or GET /api/voice).",
        )
    return voice_id


def set_default_voice(profile: Profile, voice_id: str) -> str:
    """Make `voice_id` the profile's default voice."""
    defaults = load_defaults(profile)
    defaults.default_voice = _existing(profile, voice_id)
    _save_defaults(profile, defaults)
    return voice_id


def keep_default(profile: Profile) -> str | None:
    """Record the current default (the first voice when none was chosen), so adding voices never changes it."""
    defaults = load_defaults(profile)
    current = default_voice(profile)
    if defaults.default_voice != current:
        defaults.default_voice = current
        _save_defaults(profile, defaults)
    return current


def forget_voice(profile: Profile, voice_id: str) -> str | None:
    """After `voice_id` was deleted: drop it from defaults.json; returns the default voice now (None: none left)."""
    defaults = load_defaults(profile)
    defaults.aliases = {k: v for k, v in defaults.aliases.items() if v != voice_id}
    if defaults.default_voice == voice_id:
        defaults.default_voice = None
    _save_defaults(profile, defaults)
    return keep_default(profile)


def voice_aliases(profile: Profile) -> dict[str, str]:
    """Every alias and what it stands for: the OpenAI voice names ('default' unless mapped) and the profile's own."""
    return {**dict.fromkeys(OPENAI_VOICES, DEFAULT_VOICE), **load_defaults(profile).aliases}


def set_alias(profile: Profile, alias: str, target: str | None) -> dict[str, str]:
    """Map `alias` to a voice id, 'default' or 'base'; target None removes the profile's own mapping."""
    alias = check_name(alias.strip().lower(), "voice alias")
    if alias in (DEFAULT_VOICE, BASE_VOICE):
        raise InvalidInput(f"'{alias}' already has a fixed meaning.", "Pick another alias name.")
    defaults = load_defaults(profile)
    if target is None:
        defaults.aliases.pop(alias, None)
    else:
        defaults.aliases[alias] = target if target in (DEFAULT_VOICE, BASE_VOICE) else _existing(profile, target)
    _save_defaults(profile, defaults)
    return voice_aliases(profile)


@dataclass(frozen=True)
class VoiceChoice:
    """Which voice a request gets: voice_id None is the plain base voice. `notice` is set when the base
    voice speaks although the profile has voices of its owner."""

    voice_id: str | None
    source: str  # "named", "alias", "default" or "base"
    notice: str | None = None

    @property
    def label(self) -> str:
        return self.voice_id or BASE_VOICE


def choose_voice(profile: Profile, name: str | None, *, aliases: bool = False) -> VoiceChoice:
    """Turn a requested voice (an id, 'default', 'base', None, or with `aliases` an alias) into a VoiceChoice."""
    key = (name or "").strip().lower() or DEFAULT_VOICE
    source = "named"
    if aliases and key in (table := voice_aliases(profile)):
        key, source = table[key], "alias"
    if key == DEFAULT_VOICE:
        vid = default_voice(profile)
        return VoiceChoice(vid, "default" if source == "named" else source) if vid else VoiceChoice(None, "base")
    if key == BASE_VOICE:
        metas = voice_metas(profile)
        if not metas:
            return VoiceChoice(None, "base")
        current = default_voice(profile) or metas[0][0]
        name_of = dict(metas)[current].get("name") or current
        return VoiceChoice(
            None,
            "base",
            f"Spoken in the plain base voice, not yours: this profile has {len(metas)} voice(s) of its own "
            f"(default: {name_of}). Drop --base (or the voice 'base') to speak in yours.",
        )
    return VoiceChoice(_existing(profile, key), source)


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
    if voice_id in (None, DEFAULT_VOICE):
        voice_id = default_voice(profile)
    if voice_id is None or voice_id == BASE_VOICE:
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
