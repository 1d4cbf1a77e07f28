"""`twin voice train`: fit the owner's converter from the prepared, transcribed library, and make it the
voice's active converter only when it does not make the voice worse.

For each usable clip with a transcript the clone engine's base voice reads the transcript and the pair is
handed to the engine's converter trainer (the engine owns the converter's maths and file format). A
deterministic fifth of the clips (by clip id) is held out and never trained on; the split is written next
to the converter so evaluation uses exactly the unseen clips. The new converter is written as a
candidate, compared with the voice as it is now (voice.clone.gate), and swapped in only when it passes
— or when the caller accepts it anyway (`--force`, or the user said yes on a terminal).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from twin.audio.decode import load_audio
from twin.errors import InvalidInput, TwinError
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.tts import TTSBackend, VoiceSpec
from twin.voice.clone.contract import FittedConverter, TrainableEngine
from twin.voice.clone.gate import GateReport, base_readings, judge, score_voice
from twin.voice.config import VoiceConfig, load_voice_config
from twin.voice.synth.voices import CONVERTER_DIR, read_voice_meta, voice_folder

SPLIT = "split.json"
CANDIDATE_DIR = "converter.candidate"
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
    activated: bool = True
    forced: bool = False
    gate: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_held_out(clip_id: str) -> bool:
    return int(hashlib.sha256(clip_id.encode()).hexdigest(), 16) % 5 == 0


def library_utterances(profile: Profile, speaker: str | None = None) -> list[Utterance]:
    """Usable prepared clips with transcripts, from the voice library (the owner's unless `speaker` is given)."""
    from twin.voice import library

    out = []
    for clip in library.list_clips(profile, include_excluded=False, speaker=speaker):
        text = (clip.transcript or "").strip()
        path = clip.abspath(profile)
        if text and path.is_file():
            out.append(Utterance(clip.id, path, text, clip.emotion))
    return out


def split_utterances(utts: list[Utterance], reference_hashes: set[str]) -> tuple[list[Utterance], list[Utterance]]:
    """(train, held_out); clips used for the references (by id or identical bytes) are never held out."""
    train: list[Utterance] = []
    held: list[Utterance] = []
    for u in utts:
        is_ref = u.clip_id in reference_hashes or hashlib.sha256(u.path.read_bytes()).hexdigest() in reference_hashes
        (held if is_held_out(u.clip_id) and not is_ref else train).append(u)
    return train, held


def reference_hashes(folder: Path) -> set[str]:
    """Digests of the voice's reference clips plus the library clip ids voice.json says they came from."""
    refs = [folder / "reference.wav", *(folder / "references").glob("*.wav")]
    found = {hashlib.sha256(p.read_bytes()).hexdigest() for p in refs if p.is_file()}
    clips = read_voice_meta(folder).get("clips") or {}
    if isinstance(clips, dict):
        found.update(str(c) for ids in clips.values() if isinstance(ids, list) for c in ids)
    return found


def clone_engine(profile: Profile) -> TTSBackend:
    """The embedded clone engine with the profile's settings for it (tts.json)."""
    from twin.voice.synth.config import load_config

    return registry.create("tts", "clone", **load_config(profile).kwargs_for("clone"))


def _fit(
    engine: TrainableEngine,
    train: list[Utterance],
    components: int,
    meta: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> tuple[FittedConverter, list[dict[str, str]]]:
    trainer = engine.converter_trainer()
    skipped = []
    for i, utt in enumerate(train):
        try:
            owner, _ = load_audio(utt.path, sr=RATE, name=f"clip {utt.clip_id}")
            trainer.add(engine.base_reading(utt.transcript), owner)
        except TwinError as exc:  # one bad clip never stops training
            skipped.append({"clip_id": utt.clip_id, "reason": exc.message})
        if progress:
            progress(i + 1, len(train))
    return trainer.fit(components, meta), skipped


def gate_candidate(
    folder: Path, engine: TrainableEngine, candidate: Path, held: list[Utterance], config: VoiceConfig
) -> GateReport:
    """Score the voice as it is now and with the candidate converter on the same sentences."""
    from twin.voice.eval import Scorer

    reference = folder / "reference.wav"
    owner = [u.path for u in held][:8] or ([reference] if reference.is_file() else [])
    stt = registry.create("stt", "faster_whisper", model=config.train.stt_model, temperature_fallback=False)
    scorer = Scorer(registry.create("speaker", config.reference.speaker_backend), owner, stt)
    active = folder / CONVERTER_DIR
    base_spec = VoiceSpec(
        voice_id=folder.name, voice_dir=folder, reference_audio=reference if reference.is_file() else None
    )
    now = replace(base_spec, converter_dir=active if active.is_dir() else None)
    new = replace(base_spec, converter_dir=candidate)
    readings = base_readings(engine)
    before = score_voice(engine, now, scorer, readings)
    after = score_voice(engine, new, scorer, readings)
    compared_with = "the current trained converter" if active.is_dir() else "zero-shot cloning from the reference"
    return judge(before, after, config.train, compared_with)


def activate_candidate(folder: Path) -> Path:
    """Make the candidate converter the active one (the previous one is removed)."""
    active, candidate, old = folder / CONVERTER_DIR, folder / CANDIDATE_DIR, folder / f".{CONVERTER_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if active.exists():
        active.rename(old)
    candidate.rename(active)
    shutil.rmtree(old, ignore_errors=True)
    return active


def train_voice(
    profile: Profile,
    voice_id: str,
    utterances: list[Utterance] | None = None,
    engine: TTSBackend | None = None,
    max_utterances: int = 150,
    components: int = 8,
    progress: Callable[[int, int], None] | None = None,
    hold_out: bool = True,
    gate: bool = True,
    accept: Callable[[GateReport], bool] | None = None,
    config: VoiceConfig | None = None,
) -> TrainReport:
    """Train, gate and (when it passes, or `accept(report)` says yes) activate a converter for the voice.
    hold_out=False trains on every clip (when the caller keeps its own evaluation set)."""
    started = time.perf_counter()
    folder = voice_folder(profile, voice_id)
    if not folder.is_dir():
        raise InvalidInput(f"Voice '{voice_id}' does not exist.", "Create it with `twin voice create` first.")
    config = config or load_voice_config(profile)
    utts = utterances if utterances is not None else library_utterances(profile)
    train, held = split_utterances(utts, reference_hashes(folder)) if hold_out else (list(utts), [])
    train = train[:max_utterances]
    if len(train) < 3:
        raise InvalidInput(
            f"Only {len(train)} transcribed clips are available for training.",
            "Import more recordings and run `twin voice prepare` (it transcribes them).",
        )
    engine = engine or clone_engine(profile)
    if not isinstance(engine, TrainableEngine):
        raise InvalidInput(f"The {engine.name} engine cannot train converters.", "Train with the clone engine.")
    converter, skipped = _fit(engine, train, components, {"voice_id": voice_id, "base": engine.engine_id}, progress)
    candidate = folder / CANDIDATE_DIR
    shutil.rmtree(candidate, ignore_errors=True)
    converter.save(candidate)
    split = {"train": [u.clip_id for u in train], "held_out": [u.clip_id for u in held]}
    (candidate / SPLIT).write_text(json.dumps(split, indent=2), encoding="utf-8")
    report = gate_candidate(folder, engine, candidate, held, config) if gate else None
    forced = report is not None and not report.passed and accept is not None and accept(report)
    activated = report is None or report.passed or forced
    if activated:
        out = activate_candidate(folder)
    else:
        shutil.rmtree(candidate, ignore_errors=True)
        out = folder / CONVERTER_DIR
    return TrainReport(
        voice_id,
        int(converter.meta["pairs"]),
        len(held),
        int(converter.meta["frames"]),
        int(converter.meta["components"]),
        round(time.perf_counter() - started, 2),
        str(out),
        skipped,
        activated=activated,
        forced=forced,
        gate=report.to_dict() if report else None,
    )
