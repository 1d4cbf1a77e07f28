"""Zero-shot conversion toward a reference clip: match F0 statistics, formant positions (a frequency warp
of the envelope, chosen to best fit the reference's long-term spectrum) and the remaining average
spectral envelope (a mel-cepstral mean shift). No training; a few seconds of reference speech suffice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.voice.clone import world
from twin.voice.clone.world import Features

WARPS = np.linspace(0.82, 1.22, 41)


@dataclass
class VoiceStats:
    """Long-term description of a voice: log-F0 mean/std, mean coded envelope, mean log spectrum."""

    logf0: tuple[float, float]
    mcep_mean: np.ndarray
    logspec_mean: np.ndarray

    @classmethod
    def from_features(cls, feats: list[Features]) -> VoiceStats:
        f0 = np.concatenate([f.f0 for f in feats])
        frames = [f.sp[world.speech_frames(f) & f.voiced] for f in feats]
        sp = np.concatenate([fr for fr in frames if len(fr)] or [np.concatenate([f.sp for f in feats])])
        fs = feats[0].fs
        mcep = world._pw().code_spectral_envelope(np.ascontiguousarray(sp), fs, world.N_MCEP)
        return cls(world.logf0_stats(f0), mcep.mean(axis=0), np.log(sp + 1e-12).mean(axis=0))

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
        pw = world._pw()
        mc = pw.code_spectral_envelope(np.ascontiguousarray(sp), fs, world.N_MCEP)
        warped_mean = pw.code_spectral_envelope(np.ascontiguousarray(self._warped_src), fs, world.N_MCEP)[0]
        shift = (self.tgt.mcep_mean - warped_mean) * self.strength
        shift[0] = 0.0  # keep the source's loudness contour
        sp = world.decode_mcep(mc + shift, fs)
        y = world.synthesize(f0, sp, feats.ap, fs)
        peak = float(np.max(np.abs(y))) if len(y) else 0.0
        return y * (0.95 / peak) if peak > 0.95 else y
