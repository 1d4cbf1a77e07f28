"""Fit subtitles to the soundtrack: a global offset and linear drift, then each cue's edges snapped to speech.

Model: film_time = drift * subtitle_time + offset. Drift covers frame-rate conversions (25 vs 23.976 fps
is 1.0427) and offset covers intros and different releases.
1. Coarse search: for each drift on a grid, the cross-correlation (FFT) of the cue track with the
   zero-mean speech-probability track gives the best offset; the best pair wins.
2. Refinement: anchors — ASR words matching a cue's first words when words.json exists, else each cue's
   locally best shift against speech — and a least-squares line with outliers (3 MAD) rejected.
3. Snap: each cue's start and end move to the nearest speech onset / offset (or word edge) within 0.5 s.
Subtitles for another cut fit badly everywhere; below MIN_COVERAGE of cue time on speech the stage
refuses, keeping cues.json as it was."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.errors import InvalidInput
from twin.media.subtitles import Cue

DT = 0.1  # seconds per frame of the tracks correlated
MIN_COVERAGE = 0.45
SNAP_S = 0.5
FPS_RATIOS = (25 / 23.976, 23.976 / 25, 24 / 23.976, 23.976 / 24, 25 / 24, 24 / 25, 30 / 29.97, 29.97 / 30)
Region = tuple[float, float]


@dataclass
class Fit:
    drift: float
    offset: float
    coverage: float  # share of (mapped) cue time on speech
    anchors: int = 0
    residual_s: float = 0.0
    method: str = "speech"

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift": round(self.drift, 6),
            "drift_ppm": round((self.drift - 1.0) * 1e6, 1),
            "offset_s": round(self.offset, 3),
            "coverage": round(self.coverage, 3),
            "anchors": self.anchors,
            "residual_s": round(self.residual_s, 3),
            "method": self.method,
        }


def speech_track(probs: np.ndarray, hop: float, duration_s: float) -> np.ndarray:
    """VAD probabilities averaged into DT frames."""
    n = int(np.ceil(duration_s / DT))
    idx = np.minimum((np.arange(len(probs)) * hop / DT).astype(int), n - 1)
    sums = np.bincount(idx, weights=probs, minlength=n)
    counts = np.bincount(idx, minlength=n)
    return (sums / np.maximum(counts, 1)).astype(np.float64)


def cue_track(cues: list[Cue], drift: float, n: int) -> np.ndarray:
    track = np.zeros(n, dtype=np.float64)
    for c in cues:
        a, b = int(c.start * drift / DT), int(np.ceil(c.end * drift / DT))
        track[max(0, a) : max(0, min(n, b))] = 1.0
    return track


def _best_lag(cue: np.ndarray, speech0: np.ndarray, max_lag: int) -> tuple[int, float]:
    """Lag (frames) maximizing sum(cue[t] * speech0[t + lag]) within ±max_lag, and that sum."""
    size = 1 << int(np.ceil(np.log2(len(cue) + len(speech0))))
    corr = np.fft.irfft(np.fft.rfft(speech0, size) * np.conj(np.fft.rfft(cue, size)), size)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    values = corr[lags % size]
    i = int(np.argmax(values))
    return int(lags[i]), float(values[i])


def coverage(cues: list[Cue], drift: float, offset: float, speech: np.ndarray) -> float:
    on = total = 0.0
    for c in cues:
        a = int((c.start * drift + offset) / DT)
        b = int(np.ceil((c.end * drift + offset) / DT))
        total += max(b - a, 0)
        seg = speech[max(0, a) : max(0, min(len(speech), b))]
        on += float(np.sum(seg > 0.5))
    return on / total if total else 0.0


def coarse_fit(cues: list[Cue], speech: np.ndarray, max_offset_s: float) -> Fit:
    drifts = sorted(set(np.round(np.arange(0.95, 1.05 + 1e-9, 0.0005), 6)) | set(FPS_RATIOS))
    speech0 = speech - float(np.mean(speech))
    max_lag = int(max_offset_s / DT)
    best = (-np.inf, 1.0, 0)
    for d in drifts:
        lag, score = _best_lag(cue_track(cues, d, len(speech)), speech0, max_lag)
        if score > best[0]:
            best = (score, d, lag)
    _, d0, lag0 = best
    for d in np.arange(d0 - 0.0006, d0 + 0.0006 + 1e-9, 0.0001):  # finer around the winner
        lag, score = _best_lag(cue_track(cues, float(d), len(speech)), speech0, max_lag)
        if score > best[0]:
            best = (score, float(d), lag)
    _, drift, lag = best
    offset = lag * DT
    return Fit(drift, offset, coverage(cues, drift, offset, speech), method="speech")


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_anchors(
    cues: list[Cue], fit: Fit, words: list[dict[str, Any]], window_s: float = 4.0
) -> list[tuple[float, float]]:
    """(subtitle time, film time) pairs: a cue's first two tokens found in sequence among nearby ASR words."""
    if not words:
        return []
    starts = np.array([w["start"] for w in words])
    toks = [(_tokens(w["text"]) or [""])[0] for w in words]
    out = []
    for c in cues:
        ct = _tokens(c.text)
        if len(ct) < 2:
            continue
        guess = c.start * fit.drift + fit.offset
        lo, hi = int(np.searchsorted(starts, guess - window_s)), int(np.searchsorted(starts, guess + window_s))
        hits = [i for i in range(lo, min(hi, len(words) - 1)) if toks[i] == ct[0] and toks[i + 1] == ct[1]]
        if len(hits) == 1:
            out.append((c.start, float(starts[hits[0]])))
    return out


def speech_anchors(cues: list[Cue], fit: Fit, speech: np.ndarray, search_s: float = 1.5) -> list[tuple[float, float]]:
    """(subtitle time, film time) pairs from each cue's locally best shift against the speech track."""
    out = []
    k = int(search_s / DT)
    speech0 = speech - 0.5
    for c in cues:
        a = int((c.start * fit.drift + fit.offset) / DT)
        b = int(np.ceil((c.end * fit.drift + fit.offset) / DT))
        if b - a < 5 or a - k < 0 or b + k >= len(speech):
            continue
        scores = [float(np.sum(speech0[a + s : b + s])) for s in range(-k, k + 1)]
        best = int(np.argmax(scores))
        if scores[best] <= 0 or scores.count(scores[best]) > 1:
            continue
        out.append((c.start, c.start * fit.drift + fit.offset + (best - k) * DT))
    return out


def robust_line(pairs: list[tuple[float, float]]) -> tuple[float, float, float, int]:
    """(slope, intercept, median |residual|, inliers) of film = slope * subtitle + intercept."""
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    keep = np.ones(len(x), dtype=bool)
    slope, icpt = 1.0, 0.0
    for _ in range(4):
        slope, icpt = np.polyfit(x[keep], y[keep], 1)
        res = np.abs(y - (slope * x + icpt))
        mad = float(np.median(res[keep])) or 1e-3
        new = res <= max(3 * 1.4826 * mad, 0.05)
        if new.sum() < 3 or (new == keep).all():
            break
        keep = new
    res = np.abs(y - (slope * x + icpt))
    return float(slope), float(icpt), float(np.median(res[keep])), int(keep.sum())


def refine(cues: list[Cue], fit: Fit, speech: np.ndarray, words: list[dict[str, Any]]) -> Fit:
    pairs = word_anchors(cues, fit, words)
    method = "asr-words"
    if len(pairs) < 8:
        pairs, method = speech_anchors(cues, fit, speech), "speech"
    if len(pairs) < 4:
        return fit
    slope, icpt, res, n = robust_line(pairs)
    if not 0.9 < slope < 1.1:
        return fit
    cov = coverage(cues, slope, icpt, speech)
    if cov + 0.02 < fit.coverage and method == "speech":
        return fit  # the local anchors made it worse: keep the coarse fit
    return Fit(slope, icpt, cov, n, res, method)


def snap(start: float, end: float, onsets: np.ndarray, offsets: np.ndarray) -> tuple[float, float]:
    """Move edges to the nearest onset/offset within SNAP_S, never producing an empty cue."""

    def nearest(t: float, edges: np.ndarray) -> float:
        if not len(edges):
            return t
        i = int(np.argmin(np.abs(edges - t)))
        return float(edges[i]) if abs(edges[i] - t) <= SNAP_S else t

    s, e = nearest(start, onsets), nearest(end, offsets)
    return (s, e) if e - s >= 0.2 else (start, end)


def apply_fit(cues: list[Cue], fit: Fit, regions: list[Region], words: list[dict[str, Any]]) -> list[Cue]:
    onsets = np.array([s for s, _ in regions] + [w["start"] for w in words])
    offsets = np.array([e for _, e in regions] + [w["end"] for w in words])
    out = []
    for c in cues:
        s, e = c.start * fit.drift + fit.offset, c.end * fit.drift + fit.offset
        s, e = snap(s, e, onsets, offsets)
        out.append(Cue(**{**c.to_dict(), "start": round(max(0.0, s), 3), "end": round(max(0.0, e), 3)}))
    return out


def align_cues(
    cues: list[Cue],
    probs: np.ndarray,
    hop: float,
    duration_s: float,
    regions: list[Region],
    words: list[dict[str, Any]],
    max_offset_s: float = 600.0,
    name: str = "subtitles",
) -> tuple[list[Cue], Fit, float]:
    """(aligned cues, fit, coverage before); InvalidInput when the subtitles do not fit this soundtrack."""
    speech = speech_track(probs, hop, duration_s)
    before = coverage(cues, 1.0, 0.0, speech)
    fit = refine(cues, coarse_fit(cues, speech, max_offset_s), speech, words)
    if fit.coverage < MIN_COVERAGE:
        raise InvalidInput(
            f"{name}: the subtitles do not match this soundtrack — at best {fit.coverage:.0%} of the cue time "
            f"falls on speech (offset {fit.offset:+.1f} s, drift {fit.drift:.4f}); they are probably for another "
            "cut or release.",
            "Use subtitles made for this release (check the running time), or rerun transcribe without "
            "--subtitles to transcribe the speech. The cues read so far are kept in cues.json.",
        )
    return apply_fit(cues, fit, regions, words), fit, before
