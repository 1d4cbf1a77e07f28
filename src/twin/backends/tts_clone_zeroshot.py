"""The clone engine's zero-shot conversion toward a reference clip: match F0 statistics, formant positions
(a frequency warp of the envelope, chosen to best fit the reference's long-term spectrum) and the
remaining average spectral envelope (a mel-cepstral mean shift). No training; a few seconds of reference
speech suffice. `VoiceStats` (the long-term description of a voice) is shared with the trained converter."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin.audio import world
from twin.audio.world import Features

WARPS = np.linspace(0.82, 1.22, 41)


@dataclass
class VoiceStats:
    """Long-term description of a voice: log-F0 mean/std, mean coded envelope, mean log spectrum."""

    logf0: tuple[float, float]
    mcep_mean: np.ndarray
    logspec_mean: np.ndarray

    @classmethod
    def from_features(cls, feats: list[Features]) -> VoiceStats:
        acc = StatsAccumulator()
        for f in feats:
            acc.add(f)
        return acc.stats()

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_logf0": np.array(self.logf0),
            f"{prefix}_mcep": self.mcep_mean,
            f"{prefix}_logspec": self.logspec_mean,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> VoiceStats:
        lf = arrays[f"{prefix}_logf0"]
        return cls((float(lf[0]), float(lf[1])), arrays[f"{prefix}_mcep"], arrays[f"{prefix}_logspec"])


@dataclass
class StatsAccumulator:
    """VoiceStats gathered utterance by utterance (running sums), so no utterance's features are kept.

    Envelope statistics use the voiced speech frames; an utterance without any falls back to all its
    frames, as long as no utterance had voiced speech."""

    fs: int = 0
    log_f0: list[np.ndarray] = field(default_factory=list)
    _sums: dict[bool, list[np.ndarray]] = field(default_factory=dict)
    _counts: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})

    def add(self, feats: Features) -> None:
        self.fs = feats.fs
        self.log_f0.append(np.log(feats.f0[feats.f0 > 0]))
        selected = world.speech_frames(feats) & feats.voiced
        for voiced, sp in ((True, feats.sp[selected]), (False, feats.sp)):
            if not len(sp):
                continue
            mcep, logspec = world.code_envelope(sp, feats.fs).sum(axis=0), np.log(sp + 1e-12).sum(axis=0)
            prev = self._sums.get(voiced)
            self._sums[voiced] = [mcep, logspec] if prev is None else [prev[0] + mcep, prev[1] + logspec]
            self._counts[voiced] += len(sp)

    def stats(self) -> VoiceStats:
        key = bool(self._counts[True])
        if not self._counts[key]:
            raise ValueError("VoiceStats of no audio.")
        mcep, logspec = (s / self._counts[key] for s in self._sums[key])
        lf = np.concatenate(self.log_f0) if self.log_f0 else np.zeros(0)
        return VoiceStats(world.log_stats(lf), mcep, logspec)


def best_warp(src: VoiceStats, tgt: VoiceStats) -> float:
    """The frequency warp that makes the source's mean log spectrum closest to the target's (in shape)."""
    best, best_err = 1.0, np.inf
    spec = np.exp(src.logspec_mean)[None, :]
    bins = len(src.logspec_mean)
    band = slice(int(bins * 0.02), int(bins * 0.7))  # 200 Hz – ~7.7 kHz: where formants live
    for alpha in WARPS:
        warped = np.log(world.warp_envelope(spec, float(alpha))[0] + 1e-12)
        diff = (warped - tgt.logspec_mean)[band]
        err = float(np.var(diff))  # variance ignores an overall level offset
        if err < best_err:
            best, best_err = float(alpha), err
    return best


def limit_peak(y: np.ndarray, peak: float = 0.95) -> np.ndarray:
    top = float(np.max(np.abs(y))) if len(y) else 0.0
    return y * (peak / top) if top > peak else y


class ZeroShotConverter:
    def __init__(self, src: VoiceStats, tgt: VoiceStats, strength: float = 1.0) -> None:
        self.src, self.tgt = src, tgt
        self.alpha = best_warp(src, tgt)
        self.strength = strength
        self._warped_src = world.warp_envelope(np.exp(src.logspec_mean)[None, :], self.alpha)

    def convert(self, x: np.ndarray, fs: int) -> np.ndarray:
        feats = world.analyze(x, fs)
        f0 = world.convert_f0(feats.f0, self.src.logf0, self.tgt.logf0)
        sp = world.warp_envelope(feats.sp, self.alpha)
        mc = world.code_envelope(sp, fs)
        warped_mean = world.code_envelope(self._warped_src, fs)[0]
        shift = (self.tgt.mcep_mean - warped_mean) * self.strength
        shift[0] = 0.0  # keep the source's loudness contour
        y = world.synthesize(f0, world.decode_mcep(mc + shift, fs), feats.ap, fs)
        return limit_peak(y)
