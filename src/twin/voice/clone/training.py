"""`twin voice train`: fit the owner's converter from the prepared, transcribed library.

For each usable clip with a transcript the base voice reads the transcript; base and owner frames are
DTW-aligned and a GMM mapping is fitted (twin.voice.clone.trained). A deterministic fifth of the clips
(by clip id) is held out for `twin voice eval` and never trained on; the split is written next to the
converter so evaluation uses exactly the unseen clips.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, TwinError
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.tts import TTSBackend, TTSOptions, VoiceSpec
from twin.voice.clone import world
from twin.voice.clone.trained import TrainedConverter
from twin.voice.storage import read_voice_bytes
from twin.voice.synth.voices import CONVERTER_DIR, voice_folder

SPLIT = "split.json"
RATE = 22050


@dataclass
class Utterance:
    clip_id: str
    path: Path
    transcript: str
    emotion: str = "neutral"


@dataclass
class TrainReport:
    voice_id: str
    trained_on: int
    held_out: int
    frames: int
    components: int
    seconds: float
    path: str
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_held_out(clip_id: str) -> bool:
    return int(hashlib.sha256(clip_id.encode()).hexdigest(), 16) % 5 == 0


def library_utterances(profile: Profile) -> list[Utterance]:
    """Usable prepared clips with transcripts, from the voice library."""
    from twin.voice import library

    out = []
    for clip in library.list_clips(profile, include_excluded=False):
        text = (clip.transcript or "").strip()
        path = clip.abspath(profile)
        if text and path.is_file():
            out.append(Utterance(clip.id, path, text, clip.emotion))
    return out


def base_audio(base: TTSBackend, text: str) -> np.ndarray:
    """The base voice reading `text`, float32 at 22,050 Hz."""
    from twin.voice.synth import codec

    async def run() -> list[np.ndarray]:
        return [
            codec.to_output(c.samples, c.sample_rate) async for c in base.synthesize(text, VoiceSpec(), TTSOptions())
        ]

    base.load()
    parts = asyncio.run(run())
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def split_utterances(utts: list[Utterance], reference_hashes: set[str]) -> tuple[list[Utterance], list[Utterance]]:
    """(train, held_out); clips used for the references (by id or identical bytes) are never held out."""
    train, held = [], []
    for u in utts:
        is_ref = (
            u.clip_id in reference_hashes or hashlib.sha256(read_voice_bytes(u.path)).hexdigest() in reference_hashes
        )
        (held if is_held_out(u.clip_id) and not is_ref else train).append(u)
    return train, held


def reference_hashes(folder: Path) -> set[str]:
    """Digests of the voice's reference clips plus the library clip ids voice.json says they came from."""
    from twin.voice.synth.voices import read_voice_meta

    refs = [folder / "reference.wav", *(folder / "references").glob("*.wav")]
    found = {hashlib.sha256(read_voice_bytes(p)).hexdigest() for p in refs if p.is_file()}
    clips = read_voice_meta(folder).get("clips") or {}
    if isinstance(clips, dict):
        found.update(str(c) for ids in clips.values() if isinstance(ids, list) for c in ids)
    return found


def train_voice(
    profile: Profile,
    voice_id: str,
    utterances: list[Utterance] | None = None,
    base: TTSBackend | None = None,
    max_utterances: int = 150,
    components: int = 8,
    progress: Callable[[int, int], None] | None = None,
    hold_out: bool = True,
) -> TrainReport:
    """hold_out=False trains on every clip (when the caller keeps its own evaluation set)."""
    from twin.voice.storage import load_voice_audio

    started = time.perf_counter()
    folder = voice_folder(profile, voice_id)
    if not folder.is_dir():
        raise InvalidInput(f"Voice '{voice_id}' does not exist.", "Create it with `twin voice create` first.")
    utts = utterances if utterances is not None else library_utterances(profile)
    train, held = split_utterances(utts, reference_hashes(folder)) if hold_out else (list(utts), [])
    train = train[:max_utterances]
    if len(train) < 3:
        raise InvalidInput(
            f"Only {len(train)} transcribed clips are available for training.",
            "Import more recordings and run `twin voice prepare` (it transcribes them).",
        )
    base = base or registry.create("tts", "piper")
    pairs, skipped = [], []
    for i, utt in enumerate(train):
        try:
            owner, _ = load_voice_audio(utt.path, sr=RATE)
            pairs.append((world.analyze(base_audio(base, utt.transcript), RATE), world.analyze(owner, RATE)))
        except TwinError as exc:  # one bad clip never stops training
            skipped.append({"clip_id": utt.clip_id, "reason": exc.message})
        if progress:
            progress(i + 1, len(train))
    converter = TrainedConverter.train(pairs, components, meta={"voice_id": voice_id, "base": base.engine_id})
    out = folder / CONVERTER_DIR
    converter.save(out)
    split = {"train": [u.clip_id for u in train], "held_out": [u.clip_id for u in held]}
    (out / SPLIT).write_text(json.dumps(split, indent=2), encoding="utf-8")
    return TrainReport(
        voice_id,
        len(pairs),
        len(held),
        converter.meta["frames"],
        converter.meta["components"],
        round(time.perf_counter() - started, 2),
        str(out),
        skipped,
    )
