"""The clone engine's trained conversion: a joint-density GMM mapping base-voice mel-cepstra to the owner's,
frame by frame.

Training pairs are (base voice reading a transcript, owner saying it). Frames are aligned with DTW on
mel-cepstra (librosa), a GMM is fitted on the stacked [source, target] vectors (scikit-learn), and the
conversion is the classic minimum-mean-square-error mapping
    y = sum_k P(k | x) (mu_y,k + S_yx,k S_xx,k^-1 (x - mu_x,k)).
Log-F0 is mapped by mean/variance; aperiodicity and loudness stay the source's. Everything is saved
as plain arrays (.npz loaded with allow_pickle=False) plus JSON — never pickles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin.audio import world
from twin.audio.world import Features
from twin.backends.tts_clone_zeroshot import StatsAccumulator, VoiceStats, limit_peak
from twin.errors import InvalidInput, MissingDependency, NotFound

ARRAYS = "converter.npz"
META = "converter.json"
MIN_FRAMES = 200


def align(src: np.ndarray, tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DTW path between two mel-cepstral sequences (coefficient 0, the loudness, is left out)."""
    try:
        from librosa.sequence import dtw
    except ImportError:
        raise MissingDependency.for_extra("Converter training", "voice", "librosa") from None
    _, path = dtw(X=src[:, 1:].T, Y=tgt[:, 1:].T, metric="euclidean", backtrack=True)
    path = path[::-1]
    return path[:, 0], path[:, 1]


def paired_frames(base: Features, owner: Features) -> np.ndarray:
    """Aligned [source | target] coded-envelope frames of one utterance (speech frames only)."""
    xs, ys = base.mcep(), owner.mcep()
    xs, ys = xs[world.speech_frames(base)], ys[world.speech_frames(owner)]
    if len(xs) < 10 or len(ys) < 10:
        return np.zeros((0, 2 * (world.N_MCEP - 1)))
    ix, iy = align(xs, ys)
    return np.hstack([xs[ix, 1:], ys[iy, 1:]])


@dataclass
class GMMMap:
    weights: np.ndarray  # (K,)
    mu_x: np.ndarray  # (K, D)
    prec_chol_x: np.ndarray  # (K, D, D) Cholesky of the inverse marginal covariance
    log_det_x: np.ndarray  # (K,)
    a: np.ndarray  # (K, D, D) regression S_yx S_xx^-1
    b: np.ndarray  # (K, D)

    @classmethod
    def fit(cls, joint: np.ndarray, components: int = 8, seed: int = 0) -> GMMMap:
        try:
            from sklearn.mixture import GaussianMixture
        except ImportError:
            raise MissingDependency.for_extra("Converter training", "voice", "scikit-learn") from None
        d = joint.shape[1] // 2
        k = max(1, min(components, len(joint) // (4 * joint.shape[1])))
        gmm = GaussianMixture(k, covariance_type="full", max_iter=60, reg_covar=1e-3, random_state=seed)
        gmm.fit(joint)
        mu_x, mu_y = gmm.means_[:, :d], gmm.means_[:, d:]
        s_xx, s_yx = gmm.covariances_[:, :d, :d], gmm.covariances_[:, d:, :d]
        inv_xx = np.linalg.inv(s_xx)
        a = np.einsum("kij,kjl->kil", s_yx, inv_xx)
        b = mu_y - np.einsum("kij,kj->ki", a, mu_x)
        chol = np.linalg.cholesky(inv_xx)
        log_det = np.array([np.linalg.slogdet(s)[1] for s in s_xx])
        return cls(gmm.weights_, mu_x, chol, log_det, a, b)

    def posteriors(self, x: np.ndarray) -> np.ndarray:
        diff = x[None, :, :] - self.mu_x[:, None, :]  # (K, T, D)
        z = np.einsum("ktd,kde->kte", diff, self.prec_chol_x)
        logp = -0.5 * (z**2).sum(axis=2) - 0.5 * self.log_det_x[:, None] + np.log(self.weights)[:, None]
        logp -= logp.max(axis=0, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=0, keepdims=True)  # (K, T)

    def map(self, x: np.ndarray) -> np.ndarray:
        post = self.posteriors(x)
        y = np.einsum("kij,tj->kti", self.a, x) + self.b[:, None, :]
        return np.einsum("kt,kti->ti", post, y)

    def to_arrays(self) -> dict[str, np.ndarray]:
        names = ("weights", "mu_x", "prec_chol_x", "log_det_x", "a", "b")
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_arrays(cls, arr: dict[str, np.ndarray]) -> GMMMap:
        return cls(arr["weights"], arr["mu_x"], arr["prec_chol_x"], arr["log_det_x"], arr["a"], arr["b"])


class TrainedConverter:
    def __init__(self, gmm: GMMMap, src: VoiceStats, tgt: VoiceStats, meta: dict[str, Any]) -> None:
        self.gmm, self.src, self.tgt, self.meta = gmm, src, tgt, meta

    def convert(self, x: np.ndarray, fs: int) -> np.ndarray:
        feats = world.analyze(x, fs)
        mc = feats.mcep()
        mapped = mc.copy()
        mapped[:, 1:] = self.gmm.map(mc[:, 1:])
        f0 = world.convert_f0(feats.f0, self.src.logf0, self.tgt.logf0)
        return limit_peak(world.synthesize(f0, world.decode_mcep(mapped, fs), feats.ap, fs))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {**self.gmm.to_arrays(), **self.src.to_arrays("src"), **self.tgt.to_arrays("tgt")}
        tmp = folder / f".{ARRAYS}.tmp.npz"
        np.savez(tmp, allow_pickle=False, **arrays)
        tmp.replace(folder / ARRAYS)
        (folder / META).write_text(json.dumps(self.meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> TrainedConverter:
        path = folder / ARRAYS
        if not path.is_file():
            raise NotFound("This voice has no trained converter.", "Train one with `twin voice train`.")
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads((folder / META).read_text(encoding="utf-8")) if (folder / META).is_file() else {}
        return cls(
            GMMMap.from_arrays(arrays),
            VoiceStats.from_arrays(arrays, "src"),
            VoiceStats.from_arrays(arrays, "tgt"),
            meta,
        )


class GMMTrainer:
    """Gathers training pairs one utterance at a time (aligned frames and running statistics only, so
    memory grows with the number of speech frames, not with the features of every clip), then fits."""

    def __init__(self, fs: int) -> None:
        self.fs = fs
        self.pairs = 0
        self._joint: list[np.ndarray] = []
        self._src, self._tgt = StatsAccumulator(), StatsAccumulator()

    def add(self, base: np.ndarray, owner: np.ndarray) -> None:
        """One utterance: the base voice reading the transcript, and the owner saying it."""
        b, o = world.analyze(base, self.fs), world.analyze(owner, self.fs)
        self._joint.append(paired_frames(b, o).astype(np.float32))
        self._src.add(b)
        self._tgt.add(o)
        self.pairs += 1

    def fit(self, components: int = 8, meta: dict[str, Any] | None = None) -> TrainedConverter:
        if not self.pairs:
            raise InvalidInput("No training pairs.", "Prepare and transcribe the voice library first.")
        joint = np.vstack(self._joint).astype(np.float64)
        if len(joint) < MIN_FRAMES:
            raise InvalidInput(
                f"Only {len(joint)} aligned speech frames to train on.",
                "Record more speech (a few minutes) and run `twin voice prepare` again.",
            )
        gmm = GMMMap.fit(joint, components)
        info = {
            "frames": int(len(joint)),
            "pairs": self.pairs,
            "components": int(len(gmm.weights)),
            "n_mcep": world.N_MCEP,
            "frame_ms": world.FRAME_MS,
            **(meta or {}),
        }
        return TrainedConverter(gmm, self._src.stats(), self._tgt.stats(), info)
