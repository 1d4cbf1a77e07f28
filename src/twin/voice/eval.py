"""`twin voice eval`: how close and how clear a voice sounds, and how fast it speaks.

- speaker similarity: cosine of speaker embeddings (the "speaker" provider, resemblyzer) between speech
  synthesized in the voice and held-out owner clips that were neither references nor training data;
  the plain base voice is scored the same way as a baseline;
- intelligibility: word error rate of the embedded STT's transcript against the input text (jiwer when it
  is installed, else the word-level Levenshtein distance below, which is the same definition);
- real-time factor and first-audio time as measured by the synthesizer.
Results are written to the voice folder (eval.json) and, when the voice library offers it, into the
voice's metadata; a voice under the similarity threshold is flagged.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput
from twin.profiles import Profile, write_text_atomic
from twin.providers import registry
from twin.voice.synth import codec
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
    """(substitutions + deletions + insertions) / reference words."""
    ref, hyp = _words(reference), _words(hypothesis)
    try:
        import jiwer

        return float(jiwer.wer(" ".join(ref), " ".join(hyp))) if ref else float(bool(hyp))
    except ImportError:
        pass
    if not ref:
        return float(bool(hyp))
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


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
    from twin.voice.clone.training import library_utterances, reference_hashes, split_utterances

    folder = voice_folder(profile, voice_id)
    utts = library_utterances(profile)
    split_path = folder / CONVERTER_DIR / "split.json"
    if split_path.is_file():
        held_ids = set(json.loads(split_path.read_text(encoding="utf-8")).get("held_out", []))
        held = [u for u in utts if u.clip_id in held_ids]
    else:
        _, held = split_utterances(utts, reference_hashes(folder))
    return [u.path for u in held][:limit]


def _embed_all(encoder: Any, paths: list[Path]) -> list[np.ndarray]:
    from twin.voice.storage import load_voice_audio

    out = []
    for path in paths:
        audio, sr = load_voice_audio(path, sr=16000)
        out.append(encoder.embed(audio, sr))
    return out


def _similarity(encoder: Any, audio: bytes, owner: list[np.ndarray]) -> float:
    samples, sr = codec.decode(audio)
    emb = encoder.embed(samples, sr)
    return float(np.mean([float(emb @ o) for o in owner]))


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
    encoder = registry.create("speaker", "resemblyzer")
    owner = _embed_all(encoder, owner_paths)
    stt = registry.create("stt", "faster_whisper") if use_stt else None
    synth = Synthesizer(profile)
    rows = []
    for text in texts or EVAL_TEXTS:
        res = synth.synthesize(text, voice_id=voice_id, engine=engine)
        base = synth.synthesize(text, engine="piper")
        row = {
            "text": text,
            "engine": res.engine,
            "similarity": _similarity(encoder, res.audio, owner),
            "base_similarity": _similarity(encoder, base.audio, owner),
            "rtf": res.rtf,
            "first_audio_s": res.first_audio_s,
            "cache_hit": res.cache_hit,
        }
        if stt is not None:
            samples, sr = codec.decode(res.audio)
            row["transcript"] = stt.transcribe(samples, sr).text
            row["wer"] = word_error_rate(res.text, row["transcript"])
        rows.append(row)
    wers = [r["wer"] for r in rows if "wer" in r]
    sim = statistics.fmean(r["similarity"] for r in rows)
    report = EvalReport(
        voice_id=voice_id,
        engine=rows[0]["engine"],
        similarity=round(sim, 4),
        base_similarity=round(statistics.fmean(r["base_similarity"] for r in rows), 4),
        wer=round(statistics.fmean(wers), 4) if wers else None,
        rtf=round(
            statistics.fmean(r["rtf"] for r in rows if not r["cache_hit"])
            if any(not r["cache_hit"] for r in rows)
            else 0.0,
            4,
        ),
        first_audio_s=round(statistics.fmean(r["first_audio_s"] for r in rows), 4),
        held_out_clips=len(owner_paths),
        flagged=sim < SIMILARITY_THRESHOLD,
        evaluated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        details=rows,
    )
    store_report(profile, voice_id, report)
    return report


def store_report(profile: Profile, voice_id: str, report: EvalReport) -> None:
    folder = voice_folder(profile, voice_id)
    write_text_atomic(folder / "eval.json", json.dumps(report.to_dict(), indent=2))
    summary = {k: v for k, v in report.to_dict().items() if k != "details"}
    try:
        from twin.voice import profiles as voice_profiles

        update = getattr(voice_profiles, "update_voice_meta", None)
    except ImportError:
        update = None
    if update is not None:
        update(profile, voice_id, eval=summary)
