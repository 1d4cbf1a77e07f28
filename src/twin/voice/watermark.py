"""An inaudible mark on every generated clip, so twin's speech can be told apart from a recording.

Classic spread spectrum in the log-magnitude domain (no packaged neural watermark works offline): the
signal is cut into blocks of BLOCK_FRAMES STFT frames (~186 ms); in block j every bin between 200 Hz
and 3.5 kHz is scaled by exp(±STRENGTH), the signs taken from pattern j mod PERIOD of a public
pseudo-random sequence. The band survives MP3 and any resampling down to 8 kHz; the block structure
lets the detector find the alignment again after trimming or an encoder's delay.

Detection whitens each frame's log spectrum (removing the voice's own envelope), correlates it with
the pattern under every block offset and period shift, and compares the best score with the spread
of the same scores for decoy patterns: a z-score of DETECT_Z or more means the mark is present.

STFT with sqrt-Hann windows at 50 % overlap is a perfect-reconstruction filter bank, so with the gains
at 1 the marker returns its input unchanged; written here because no maintained package offers a
streaming, resampling-proof audio watermark without model weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

RATE = 22050
NFFT = 1024
HOP = NFFT // 2
BLOCK_FRAMES = 8
PERIOD = 16
LOW_HZ, HIGH_HZ = 200.0, 3500.0
STRENGTH = 0.12  # ±1.04 dB
DETECT_Z = 6.0
MIN_VOICED_S = 1.0
WATERMARK_ID = "ss1"  # part of the audio cache key: unmarked audio from before is never served

_BINS = np.arange(NFFT // 2 + 1) * RATE / NFFT
_BAND = np.flatnonzero((LOW_HZ <= _BINS) & (_BINS < HIGH_HZ))
_WINDOW = np.sqrt(np.hanning(NFFT + 1)[:NFFT])  # periodic: squares sum to 1 at 50 % overlap


def _patterns(label: bytes, count: int = 1) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(label).digest()[:8], "little")
    return np.random.default_rng(seed).choice([-1.0, 1.0], size=(count, PERIOD, len(_BAND)))


_PATTERN = _patterns(b"twin-watermark-v1")[0]
_DECOYS = _patterns(b"twin-watermark-decoys", 24)


def _gains(strength: float) -> np.ndarray:
    gains = np.ones((PERIOD, NFFT // 2 + 1))
    gains[:, _BAND] = np.exp(strength * _PATTERN)
    return gains


class Watermarker:
    """Streaming marker: feed() float32 pieces, then flush(); the output has exactly the input's length.

    Output lags input by HOP samples inside the stream (the filter bank's latency); flush() releases it."""

    def __init__(self, strength: float = STRENGTH) -> None:
        self._gains = _gains(strength)
        self._pending = np.zeros(NFFT - HOP, dtype=np.float64)  # leading zeros: frame 0 centres on sample 0
        self._overlap = np.zeros(HOP, dtype=np.float64)
        self._frame = 0
        self._to_skip = NFFT - HOP
        self._fed = 0
        self._emitted = 0

    def feed(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        self._fed += len(x)
        return self._trim(self._process(np.concatenate([self._pending, x])))

    def flush(self) -> np.ndarray:
        return self._trim(self._process(np.concatenate([self._pending, np.zeros(NFFT)])))

    def _process(self, buf: np.ndarray) -> np.ndarray:
        n = (len(buf) - NFFT) // HOP + 1 if len(buf) >= NFFT else 0
        if n == 0:
            self._pending = buf
            return np.zeros(0, dtype=np.float32)
        idx = np.arange(NFFT)[None, :] + HOP * np.arange(n)[:, None]
        spectra = np.fft.rfft(buf[idx] * _WINDOW, axis=1)
        blocks = ((self._frame + np.arange(n)) // BLOCK_FRAMES) % PERIOD
        frames = np.fft.irfft(spectra * self._gains[blocks], NFFT, axis=1) * _WINDOW
        out = np.empty(n * HOP)
        out[:HOP] = self._overlap + frames[0, :HOP]
        if n > 1:
            out[HOP:] = (frames[1:, :HOP] + frames[:-1, HOP:]).reshape(-1)
        self._overlap = frames[-1, HOP:].copy()
        self._pending = buf[n * HOP :]
        self._frame += n
        return out.astype(np.float32)

    def _trim(self, out: np.ndarray) -> np.ndarray:
        if self._to_skip:
            skip = min(self._to_skip, len(out))
            out, self._to_skip = out[skip:], self._to_skip - skip
        out = out[: max(self._fed - self._emitted, 0)]
        self._emitted += len(out)
        return out


def embed(samples: np.ndarray, strength: float = STRENGTH) -> np.ndarray:
    """Mark a whole 22,050 Hz mono clip."""
    marker = Watermarker(strength)
    return np.concatenate([marker.feed(samples), marker.flush()]).astype(np.float32)


@dataclass(frozen=True)
class Detection:
    watermarked: bool
    z: float  # the mark's score in standard deviations of the decoys' scores
    decoy_z: float  # the best decoy's score: what chance reaches on this clip
    voiced_s: float
    conclusive: bool  # False when the clip holds too little sound to decide

    def to_dict(self) -> dict[str, object]:
        return {
            "watermarked": self.watermarked,
            "z": round(self.z, 2),
            "decoy_z": round(self.decoy_z, 2),
            "threshold": DETECT_Z,
            "voiced_s": round(self.voiced_s, 2),
            "conclusive": self.conclusive,
        }


def _moving_average(a: np.ndarray, width: int) -> np.ndarray:
    """Mean over `width` neighbouring bins along the last axis (edges repeat the last value)."""
    half = width // 2
    padded = np.pad(a, [(0, 0), (half + 1, half)], mode="edge")
    csum = np.cumsum(padded, axis=1)
    return (csum[:, width:] - csum[:, :-width]) / width


def _whitened_frames(x: np.ndarray, hop: int) -> tuple[np.ndarray, np.ndarray, float]:
    n = (len(x) - NFFT) // hop + 1
    idx = np.arange(NFFT)[None, :] + hop * np.arange(n)[:, None]
    mag = np.abs(np.fft.rfft(x[idx] * np.hanning(NFFT), axis=1))
    energy = (mag**2).sum(axis=1)
    keep = energy > energy.max() * 1e-4 if energy.max() > 0 else np.zeros(n, dtype=bool)
    logs = np.log(mag[:, _BAND] + 1e-7)
    white = logs - _moving_average(logs, 15)
    white -= white.mean(axis=1, keepdims=True)
    white /= np.linalg.norm(white, axis=1, keepdims=True) + 1e-12
    white[~keep] = 0.0
    centres = hop * np.arange(n) + NFFT // 2
    return white, centres, float(keep.sum() * hop / RATE)


def detect(samples: np.ndarray, sample_rate: int = RATE) -> Detection:
    """Whether mono `samples` carry the mark (resampled to 22,050 Hz first)."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if sample_rate != RATE and len(x):
        from twin.audio.resample import resample

        x = resample(x.astype(np.float32), sample_rate, RATE).astype(np.float64)
    hop = HOP // 2
    if len(x) < NFFT * 4:
        return Detection(False, 0.0, 0.0, len(x) / RATE, False)
    white, centres, voiced = _whitened_frames(x, hop)
    patterns = np.concatenate([_PATTERN[None], _DECOYS], axis=0)
    corr = np.einsum("fk,dpk->dfp", white, patterns)
    block = BLOCK_FRAMES * HOP
    shifts = (np.arange(PERIOD)[None, :] + np.arange(PERIOD)[:, None]) % PERIOD  # [residue, shift] -> pattern
    scores = []
    for offset in range(0, block, hop):
        j = (centres - offset) // block
        pos = centres - offset - j * block
        inner = (pos >= NFFT // 2) & (pos <= block - NFFT // 2)  # frames wholly inside one block
        onehot = np.eye(PERIOD)[j[inner] % PERIOD]  # frame -> its block's residue
        by_residue = np.einsum("dfp,fr->drp", corr[:, inner], onehot)
        scores.append(by_residue[:, np.arange(PERIOD)[:, None], shifts].sum(axis=1))  # (patterns, shift)
    all_scores = np.concatenate(scores, axis=1)
    best = all_scores.max(axis=1)
    decoy_scores = [all_scores[1:].reshape(-1)]
    sigma = float(np.std(np.concatenate(decoy_scores))) or 1.0
    z, decoy = float(best[0] / sigma), float(best[1:].max() / sigma)
    conclusive = voiced >= MIN_VOICED_S
    return Detection(conclusive and z >= DETECT_Z, z, decoy, voiced, conclusive)
