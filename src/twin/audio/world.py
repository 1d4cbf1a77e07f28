"""WORLD analysis–synthesis (pyworld-prebuilt, imported as `pyworld`) and the features voice conversion uses.

A frame every 5 ms: F0 (DIO + StoneMask), the smooth spectral envelope (CheapTrick) and aperiodicity
(D4C). The envelope is compressed to `N_MCEP` coded mel-cepstral coefficients (WORLD's own coding) for
statistics, alignment and mapping; coefficient 0 carries loudness and is kept from the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from twin.errors import MissingDependency

FRAME_MS = 5.0
N_MCEP = 36


def _pw() -> ModuleType:
    try:
        import pyworld
    except ImportError:
        raise MissingDependency.for_extra("The voice converter", "voice", "pyworld") from None
    return pyworld


@dataclass
class Features:
    f0: np.ndarray  # (T,) Hz, 0 = unvoiced
    sp: np.ndarray  # (T, fft/2+1) spectral envelope
    ap: np.ndarray  # (T, fft/2+1) aperiodicity
    fs: int

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0

    def mcep(self, n: int = N_MCEP) -> np.ndarray:
        return code_envelope(self.sp, self.fs, n)


def code_envelope(sp: np.ndarray, fs: int, n: int = N_MCEP) -> np.ndarray:
    """Spectral envelopes (T, bins) as `n` coded mel-cepstral coefficients per frame."""
    return _pw().code_spectral_envelope(np.ascontiguousarray(sp, dtype=np.float64), fs, n)


def analyze(x: np.ndarray, fs: int) -> Features:
    pw = _pw()
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pw.dio(x, fs, frame_period=FRAME_MS, f0_floor=60.0, f0_ceil=600.0)
    f0 = pw.stonemask(x, f0, t, fs)
    sp = pw.cheaptrick(x, f0, t, fs)
    ap = pw.d4c(x, f0, t, fs)
    return Features(f0, sp, ap, fs)


def decode_mcep(mcep: np.ndarray, fs: int) -> np.ndarray:
    pw = _pw()
    return pw.decode_spectral_envelope(np.ascontiguousarray(mcep, dtype=np.float64), fs, pw.get_cheaptrick_fft_size(fs))


def synthesize(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, fs: int) -> np.ndarray:
    pw = _pw()
    y = pw.synthesize(
        np.ascontiguousarray(f0, dtype=np.float64),
        np.ascontiguousarray(sp, dtype=np.float64),
        np.ascontiguousarray(ap, dtype=np.float64),
        fs,
        FRAME_MS,
    )
    return y.astype(np.float32)


def speech_frames(feats: Features, floor_db: float = 40.0) -> np.ndarray:
    """Frames within `floor_db` of the loudest one (drops silence before statistics or alignment)."""
    energy = 10 * np.log10(feats.sp.sum(axis=1) + 1e-12)
    return energy > energy.max() - floor_db


def logf0_stats(f0: np.ndarray) -> tuple[float, float]:
    """Centre and spread of log-F0 over voiced frames: (median, 1.4826 x median absolute deviation).

    For a Gaussian these equal mean and standard deviation; unlike them they ignore DIO's octave
    errors (frames read at half or double the pitch), which otherwise drag the mean and inflate the
    spread of a single utterance by large and random amounts."""
    voiced = f0[f0 > 0]
    if len(voiced) < 5:
        return 0.0, 0.0
    return log_stats(np.log(voiced))


def log_stats(lf: np.ndarray) -> tuple[float, float]:
    """(median, 1.4826 x MAD) of log-F0 values (see logf0_stats)."""
    if len(lf) < 5:
        return 0.0, 0.0
    centre = float(np.median(lf))
    return centre, float(1.4826 * np.median(np.abs(lf - centre)) + 1e-6)


def convert_f0(f0: np.ndarray, src: tuple[float, float], tgt: tuple[float, float]) -> np.ndarray:
    """Gaussian-normalized transform of log-F0 from the source's statistics to the target's."""
    if not src[1] or not tgt[1]:
        return f0
    out = np.zeros_like(f0)
    v = f0 > 0
    out[v] = np.exp((np.log(f0[v]) - src[0]) / src[1] * tgt[1] + tgt[0])
    return out


def warp_envelope(sp: np.ndarray, alpha: float) -> np.ndarray:
    """Scale the frequency axis of each envelope by `alpha` (>1 moves formants up), by interpolation."""
    if abs(alpha - 1.0) < 1e-3:
        return sp
    bins = sp.shape[1]
    src_pos = np.clip(np.arange(bins) / alpha, 0, bins - 1)
    lo = np.floor(src_pos).astype(int)
    hi = np.minimum(lo + 1, bins - 1)
    frac = src_pos - lo
    return sp[:, lo] * (1 - frac) + sp[:, hi] * frac
