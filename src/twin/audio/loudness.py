"""Loudness: integrated loudness (ITU-R BS.1770 / EBU R128, via pyloudnorm) and gain to a target."""

from __future__ import annotations

import numpy as np

from twin.errors import MissingDependency

MIN_SECONDS = 0.4  # BS.1770 gates over 400 ms blocks: shorter audio has no integrated loudness


def measure_loudness(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS of mono float audio; -inf for silence or under 0.4 s."""
    try:
        import pyloudnorm
    except ImportError:
        raise MissingDependency.for_extra("Loudness normalization", "voice", "pyloudnorm") from None
    if len(audio) < int(MIN_SECONDS * sr) + 1:
        return float("-inf")
    return float(pyloudnorm.Meter(sr).integrated_loudness(np.asarray(audio, dtype=np.float64)))


def peak_dbfs(audio: np.ndarray) -> float:
    """Sample peak in dBFS (-inf for silence)."""
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    return 20 * float(np.log10(peak)) if peak > 0 else float("-inf")


def normalize_loudness(
    audio: np.ndarray, sr: int, target_lufs: float, max_peak_dbfs: float
) -> tuple[np.ndarray, float]:
    """Gain to reach `target_lufs`, reduced when the peak would pass `max_peak_dbfs`; (audio, gain_db).
    Audio without a measurable loudness (silence, under 0.4 s) is returned unchanged."""
    lufs = measure_loudness(audio, sr)
    if not np.isfinite(lufs):
        return audio, 0.0
    gain_db = target_lufs - lufs
    peak = peak_dbfs(audio)
    if np.isfinite(peak):
        gain_db = min(gain_db, max_peak_dbfs - peak)
    return (np.asarray(audio, dtype=np.float32) * np.float32(10 ** (gain_db / 20))).astype(np.float32), float(gain_db)
