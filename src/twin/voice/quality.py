"""Quality score of a prepared clip: 0-1 with human-readable reasons.

Components (each 0-1): SNR estimate, clipping, speech ratio, duration bounds and transcript confidence
(when transcribed). The score is their weighted mean; any component under 0.3 caps the score at 0.5
so one severe defect (heavy clipping, a noise-only clip) is enough to exclude a clip."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.voice.config import ClippingConfig, QualityConfig, SegmentConfig

WEIGHTS = {"snr": 0.3, "clipping": 0.2, "speech_ratio": 0.2, "duration": 0.1, "transcript": 0.2}


@dataclass
class ClipMetrics:
    duration_s: float
    snr_db: float
    clipped_ratio: float
    speech_ratio: float
    loudness_lufs: float | None = None
    transcript_confidence: float | None = None  # None when not transcribed
    transcript: str | None = None


@dataclass
class QualityResult:
    score: float
    excluded: bool
    reasons: list[str] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)


def _lin(x: float, bad: float, good: float) -> float:
    """0 at `bad`, 1 at `good`, linear between (works for either direction)."""
    if good == bad:
        return 1.0 if x >= good else 0.0
    return float(min(1.0, max(0.0, (x - bad) / (good - bad))))


def score_clip(m: ClipMetrics, q: QualityConfig, seg: SegmentConfig, clip: ClippingConfig) -> QualityResult:
    comp: dict[str, float] = {}
    reasons: list[str] = []
    comp["snr"] = _lin(m.snr_db, q.bad_snr_db, q.good_snr_db)
    if comp["snr"] < 0.8:
        reasons.append(f"noisy: estimated SNR {m.snr_db:.0f} dB (want >= {q.good_snr_db:.0f} dB)")
    comp["clipping"] = _lin(m.clipped_ratio, clip.max_ratio * 10, clip.max_ratio)
    if m.clipped_ratio > clip.max_ratio:
        reasons.append(f"clipped: {m.clipped_ratio * 100:.2f}% of samples at full scale")
    comp["speech_ratio"] = _lin(m.speech_ratio, q.min_speech_ratio * 0.4, q.min_speech_ratio)
    if comp["speech_ratio"] < 0.8:
        reasons.append(f"little speech: {m.speech_ratio * 100:.0f}% of the clip is speech")
    inside = seg.min_s <= m.duration_s <= seg.max_s
    comp["duration"] = 1.0 if inside else 0.0
    if not inside:
        reasons.append(f"duration {m.duration_s:.1f} s outside {seg.min_s:g}-{seg.max_s:g} s")
    if m.transcript_confidence is not None:
        comp["transcript"] = _lin(m.transcript_confidence, 0.2, 0.6)
        if not (m.transcript or "").strip():
            comp["transcript"] = 0.0
            reasons.append("no words recognised")
        elif comp["transcript"] < 0.8:
            reasons.append(f"unclear speech: transcript confidence {m.transcript_confidence:.2f}")
    total_w = sum(WEIGHTS[k] for k in comp)
    score = sum(WEIGHTS[k] * v for k, v in comp.items()) / total_w
    if min(comp.values()) < 0.3:
        score = min(score, 0.5)
    score = round(float(score), 3)
    excluded = score < q.threshold
    if excluded:
        reasons.insert(0, f"excluded: quality {score:.2f} below {q.threshold:.2f}")
    return QualityResult(score=score, excluded=excluded, reasons=reasons, components=comp)
