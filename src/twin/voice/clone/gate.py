"""Whether a newly trained converter may become the voice's active one.

The voice as it is now (its current converter, or zero-shot from its reference) and the candidate speak
the same sentences; each is scored for intelligibility (word error rate of what the STT hears) and for
closeness to the owner (speaker similarity to clips the converter never saw). The candidate passes when
it neither makes the voice harder to understand nor less like the owner beyond the configured margins;
the report names every threshold and says what to do."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from twin.providers.tts import VoiceSpec
from twin.voice.clone.contract import TrainableEngine
from twin.voice.config import TrainConfig
from twin.voice.eval import EVAL_TEXTS, Scorer

READING_RATE = 22050


@dataclass
class VoiceScores:
    wer: float
    similarity: float
    details: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Check:
    name: str
    passed: bool
    message: str


@dataclass
class GateReport:
    before: VoiceScores
    after: VoiceScores
    checks: list[Check]
    advice: list[str]
    compared_with: str  # what "before" is: "the current trained converter" or "zero-shot cloning"

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def base_readings(engine: TrainableEngine, texts: list[str] | None = None) -> dict[str, np.ndarray]:
    """The base voice reading each check sentence (the same every time, so it is read once)."""
    return {text: engine.base_reading(text) for text in texts or EVAL_TEXTS}


def score_voice(
    engine: TrainableEngine, spec: VoiceSpec, scorer: Scorer, readings: dict[str, np.ndarray]
) -> VoiceScores:
    """How the voice `spec` scores when `engine` converts the same base readings: two specs scored on the
    same readings differ only by their conversion."""
    details: list[dict[str, Any]] = []
    wers, sims = [], []
    for text, reading in readings.items():
        s = scorer.score(text, engine.convert(reading, READING_RATE, spec), READING_RATE)
        wers.append(s.wer or 0.0)
        sims.append(s.similarity)
        details.append({"text": text, "transcript": s.transcript, "wer": s.wer, "similarity": round(s.similarity, 4)})
    return VoiceScores(round(statistics.fmean(wers), 4), round(statistics.fmean(sims), 4), details)


def judge(before: VoiceScores, after: VoiceScores, cfg: TrainConfig, compared_with: str) -> GateReport:
    """The checks a candidate must pass, with messages that name the thresholds, and advice."""
    rise = after.wer - before.wer
    drop = before.similarity - after.similarity
    checks = [
        Check(
            "intelligibility",
            rise <= cfg.max_wer_increase + 1e-9,
            f"word error rate {before.wer:.2f} → {after.wer:.2f} (may rise by at most {cfg.max_wer_increase:.2f})",
        ),
        Check(
            "similarity",
            drop <= cfg.max_similarity_drop + 1e-9,
            f"speaker similarity {before.similarity:.2f} → {after.similarity:.2f} "
            f"(may fall by at most {cfg.max_similarity_drop:.2f})",
        ),
    ]
    advice = []
    if not checks[0].passed:
        advice.append(
            f"The new converter makes the voice harder to understand (word error rate {after.wer:.2f}, "
            f"was {before.wer:.2f}): record more neutral speech — clear, evenly paced sentences — check that "
            "`twin voice status` shows transcripts that match what you said, then train again."
        )
    if not checks[1].passed:
        advice.append(
            f"The new converter sounds less like you (similarity {after.similarity:.2f}, was {before.similarity:.2f}): "
            "record more speech in the same room and microphone as your other recordings, then train again."
        )
    if after.similarity < cfg.min_similarity:
        advice.append(
            f"similarity {after.similarity:.2f} is below {cfg.min_similarity:.2f}: the voice is not yet close to "
            "yours. Record more speech (the library's target is about an hour, several emotions) in a quiet room."
        )
    return GateReport(before, after, checks, advice, compared_with)
