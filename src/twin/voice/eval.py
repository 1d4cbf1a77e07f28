"""`twin voice eval`: how close and how clear a voice sounds, and how fast it speaks.

- speaker similarity: cosine of speaker embeddings (the "speaker" provider, resemblyzer) between speech
  synthesized in the voice and held-out owner clips that were neither references nor training data;
  the plain base voice is scored the same way as a baseline;
- intelligibility: word error rate (jiwer) of the embedded STT's transcript against the spoken text;
- real-time factor and first-audio time as measured by the synthesizer.
Results are written to the voice folder (eval.json) and into the voice's metadata; a voice under the
similarity threshold is flagged. `Scorer` is shared with the training gate (voice.clone.gate).
"""

from __future__ import annotations

import contextlib
import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from twin.audio.decode import decode_bytes, load_audio
from twin.errors import InvalidInput, MissingDependency, TwinError
from twin.profiles import Profile, write_text_atomic
from twin.providers import registry
from twin.providers.speaker import SpeakerEncoder
from twin.providers.stt import STT, STTOptions
from twin.voice.synth.synthesizer import Synthesizer
from twin.voice.synth.voices import CONVERTER_DIR, voice_folder

SIMILARITY_THRESHOLD = 0.75
EVAL_TEXTS = [
    "Thanks for calling. I will get back to you as soon as I can.",
    "The meeting moved to Thursday afternoon, so we still have time to prepare.",
    "Could you send me the pictures from last weekend?",
]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, on lower-cased words without punctuation."""
    try:
        import jiwer
    except ImportError:
        raise MissingDependency.for_extra("Word error rate", "voice", "jiwer") from None
    ref, hyp = _words(reference), _words(hypothesis)
    if not ref:
        return float(bool(hyp))
    if not hyp:
        return 1.0
    return float(jiwer.wer(" ".join(ref), " ".join(hyp)))


@dataclass
class SpeechScore:
    similarity: float
    wer: float | None = None
    transcript: str | None = None


class Scorer:
    """Scores synthesized speech against the owner: speaker similarity to their clips, and the word error
    rate of what the STT hears (when an STT is given)."""

    def __init__(self, encoder: SpeakerEncoder, owner_clips: list[Path], stt: STT | None = None) -> None:
        if not owner_clips:
            raise InvalidInput(
                "There are no owner clips to compare the voice against.",
                "Import and prepare more recordings (`twin voice prepare`) and try again.",
            )
        self.encoder, self.stt = encoder, stt
        self.owner = [encoder.embed(*load_audio(p, sr=16000, name="a library clip")) for p in owner_clips]

    def similarity(self, samples: np.ndarray, sr: int) -> float:
        emb = self.encoder.embed(samples, sr)
        return float(np.mean([float(emb @ o) for o in self.owner]))

    def score(self, text: str, samples: np.ndarray, sr: int) -> SpeechScore:
        out = SpeechScore(self.similarity(samples, sr))
        if self.stt is not None:
            out.transcript = self.stt.transcribe(samples, sr, STTOptions(language="en")).text
            out.wer = word_error_rate(text, out.transcript)
        return out


@dataclass
class EvalReport:
    voice_id: str
    engine: str
    similarity: float
    base_similarity: float
    wer: float | None
    rtf: float
    first_audio_s: float
    held_out_clips: int
    threshold: float = SIMILARITY_THRESHOLD
    flagged: bool = False
    evaluated_at: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def held_out_clips(profile: Profile, voice_id: str, limit: int = 8) -> list[Path]:
    """Owner clips unseen by the voice: the trained converter's held-out split, else library clips that
    are not byte-identical to a reference clip."""
    from twin.voice.clone.training import SPLIT, library_utterances, reference_hashes, split_utterances

    folder = voice_folder(profile, voice_id)
    utts = library_utterances(profile)
    split_path = folder / CONVERTER_DIR / SPLIT
    if split_path.is_file():
        held_ids = set(json.loads(split_path.read_text(encoding="utf-8")).get("held_out", []))
        held = [u for u in utts if u.clip_id in held_ids]
    else:
        _, held = split_utterances(utts, reference_hashes(folder))
    return [u.path for u in held][:limit]


@dataclass
class _Row:
    text: str
    engine: str
    similarity: float
    base_similarity: float
    rtf: float
    first_audio_s: float
    cache_hit: bool
    transcript: str | None = None
    wer: float | None = None


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def evaluate_voice(
    profile: Profile,
    voice_id: str,
    engine: str | None = None,
    texts: list[str] | None = None,
    owner_clips: list[Path] | None = None,
    use_stt: bool = True,
) -> EvalReport:
    owner_paths = owner_clips if owner_clips is not None else held_out_clips(profile, voice_id)
    if not owner_paths:
        raise InvalidInput(
            f"Voice '{voice_id}' has no held-out owner clips to compare against.",
            "Import and prepare more recordings (`twin voice prepare`) and try again.",
        )
    stt = registry.create("stt", "faster_whisper") if use_stt else None
    scorer = Scorer(registry.create("speaker", "resemblyzer"), owner_paths, stt)
    synth = Synthesizer(profile)
    rows = []
    for text in texts or EVAL_TEXTS:
        res = synth.synthesize(text, voice_id=voice_id, engine=engine)
        base = synth.synthesize(text, engine="piper")
        score = scorer.score(res.text, *decode_bytes(res.audio))
        base_sim = scorer.similarity(*decode_bytes(base.audio))
        row = _Row(text, res.engine, score.similarity, base_sim, res.rtf, res.first_audio_s, res.cache_hit)
        row.transcript, row.wer = score.transcript, score.wer
        rows.append(row)
    wers = [r.wer for r in rows if r.wer is not None]
    sim = _mean([r.similarity for r in rows])
    report = EvalReport(
        voice_id=voice_id,
        engine=rows[0].engine,
        similarity=sim,
        base_similarity=_mean([r.base_similarity for r in rows]),
        wer=_mean(wers) if wers else None,
        rtf=_mean([r.rtf for r in rows if not r.cache_hit]),
        first_audio_s=_mean([r.first_audio_s for r in rows]),
        held_out_clips=len(owner_paths),
        flagged=sim < SIMILARITY_THRESHOLD,
        evaluated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        details=[asdict(r) for r in rows],
    )
    store_report(profile, voice_id, report)
    return report


def store_report(profile: Profile, voice_id: str, report: EvalReport) -> None:
    from twin.voice.profiles import update_voice_meta

    folder = voice_folder(profile, voice_id)
    write_text_atomic(folder / "eval.json", json.dumps(report.to_dict(), indent=2))
    summary = {k: v for k, v in report.to_dict().items() if k != "details"}
    with contextlib.suppress(TwinError, ValueError):  # a hand-made voice folder: eval.json is all there is
        update_voice_meta(profile, voice_id, eval=summary)
