"""The signal steps of preparation, each a small function of (audio, sample rate, its config section).

Audio is mono float32 in [-1, 1] unless noted. Regions are (start_s, end_s) tuples."""

from __future__ import annotations

import numpy as np

from twin.audio import channels, loudness
from twin.audio.resample import resample
from twin.voice.config import BreathConfig, ClippingConfig, LoudnessConfig, SilenceConfig

Region = tuple[float, float]
FRAME_S = 0.02


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average the channels of (n, channels) audio; (n,) passes through."""
    return channels.to_mono(audio)


def resample_to(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    return resample(audio, sr_in, sr_out)


def measure_loudness(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770); -inf for silence or < 0.4 s."""
    return loudness.measure_loudness(audio, sr)


def normalize_loudness(audio: np.ndarray, sr: int, cfg: LoudnessConfig) -> tuple[np.ndarray, float]:
    """Gain to reach cfg.target_lufs, reduced when the peak would pass cfg.peak_dbfs; returns (audio, gain_db)."""
    if not cfg.enabled:
        return audio, 0.0
    return loudness.normalize_loudness(audio, sr, cfg.target_lufs, cfg.peak_dbfs)


def frame_db(audio: np.ndarray, sr: int, frame_s: float = FRAME_S) -> np.ndarray:
    """Level of consecutive frames in dBFS (RMS)."""
    hop = max(1, int(sr * frame_s))
    n = len(audio) // hop
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    frames = np.asarray(audio[: n * hop], dtype=np.float32).reshape(n, hop)
    return (10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)).astype(np.float32)


def region_mask(regions: list[Region], n_frames: int, frame_s: float = FRAME_S) -> np.ndarray:
    mask = np.zeros(n_frames, dtype=bool)
    for s, e in regions:
        mask[int(s / frame_s) : int(np.ceil(e / frame_s))] = True
    return mask


def noise_floor_db(levels: np.ndarray, speech: np.ndarray) -> float:
    """Median level of non-speech frames (10th percentile of all frames when there are too few)."""
    quiet = levels[~speech] if len(speech) == len(levels) else levels[:0]
    if len(quiet) >= 10:
        return float(np.median(quiet))
    return float(np.percentile(levels, 10)) if len(levels) else -120.0


def clipped_positions(audio: np.ndarray, cfg: ClippingConfig) -> np.ndarray:
    """Sample indices at or above the clipping threshold (taken before any gain is applied)."""
    return np.flatnonzero(np.abs(audio) >= cfg.threshold)


def clipped_ratio(positions: np.ndarray, start: int, end: int) -> float:
    """Share of samples in [start, end) that are clipped."""
    if end <= start:
        return 0.0
    n = np.searchsorted(positions, end) - np.searchsorted(positions, start)
    return float(n) / (end - start)


def spectral_flatness(x: np.ndarray, sr: int, band: tuple[float, float] = (300.0, 8000.0)) -> float:
    """Geometric over arithmetic mean of the power spectrum inside `band`: high for noise (breath,
    hiss), near 0 for tones and voiced speech."""
    n = 512
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    hop = n // 2
    win = np.hanning(n)
    frames = np.stack([x[i : i + n] * win for i in range(0, len(x) - n + 1, hop)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12
    freqs = np.fft.rfftfreq(n, 1 / sr)
    sel = (freqs >= band[0]) & (freqs <= min(band[1], sr / 2))
    p = power[:, sel]
    flat = np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)
    return float(np.median(flat))


def gaps_between(regions: list[Region], total_s: float) -> list[Region]:
    """The non-speech stretches around and between `regions`."""
    out, t = [], 0.0
    for s, e in regions:
        if s > t:
            out.append((t, s))
        t = max(t, e)
    if total_s > t:
        out.append((t, total_s))
    return out


def detect_breaths(
    audio: np.ndarray, sr: int, speech: list[Region], floor_db: float, cfg: BreathConfig, speech_db: float = 0.0
) -> list[Region]:
    """Noise-like bursts in the gaps between speech, cfg.min_s-cfg.max_s long, above the noise floor
    and at least cfg.below_speech_db under the speech level (so missed speech is left alone)."""
    if not cfg.enabled:
        return []
    levels = frame_db(audio, sr)
    loud = (levels > floor_db + cfg.above_floor_db) & (levels < speech_db - cfg.below_speech_db)
    out: list[Region] = []
    for gs, ge in gaps_between(speech, len(audio) / sr):
        i0, i1 = int(np.ceil(gs / FRAME_S)), int(ge / FRAME_S)
        i = i0
        while i < i1:
            if not loud[i]:
                i += 1
                continue
            j = i
            while j < i1 and loud[j]:
                j += 1
            s, e = i * FRAME_S, j * FRAME_S
            if cfg.min_s <= e - s <= cfg.max_s:
                seg = audio[int(s * sr) : int(e * sr)]
                if spectral_flatness(seg, sr) >= cfg.min_flatness:
                    out.append((s, e))
            i = j
    return out


def apply_gain_regions(
    audio: np.ndarray, sr: int, regions: list[Region], gain_db: float, fade_s: float = 0.01
) -> np.ndarray:
    """Multiply each region by the gain with short linear fades at its edges."""
    if not regions or gain_db == 0:
        return audio
    env = np.ones(len(audio), dtype=np.float32)
    g = np.float32(10 ** (gain_db / 20))
    f = max(1, int(fade_s * sr))
    for s, e in regions:
        a, b = max(0, int(s * sr)), min(len(audio), int(e * sr))
        if b <= a:
            continue
        env[a:b] = np.minimum(env[a:b], g)
        ramp = np.linspace(1.0, g, min(f, a) + 1, dtype=np.float32)[1:]
        env[a - len(ramp) : a] = np.minimum(env[a - len(ramp) : a], ramp)
        ramp = np.linspace(g, 1.0, min(f, len(audio) - b) + 1, dtype=np.float32)[:-1]
        env[b : b + len(ramp)] = np.minimum(env[b : b + len(ramp)], ramp)
    return (audio * env).astype(np.float32)


def shorten_pauses(audio: np.ndarray, sr: int, speech: list[Region], cfg: SilenceConfig) -> np.ndarray:
    """Trim leading/trailing silence to cfg.edge_s and shorten inner pauses to cfg.max_pause_s.

    A long pause keeps its first and last halves of max_pause_s, joined with a short crossfade."""
    if not speech:
        return audio[:0]
    start = max(0, int((speech[0][0] - cfg.edge_s) * sr))
    end = min(len(audio), int((speech[-1][1] + cfg.edge_s) * sr))
    keep = int(cfg.max_pause_s * sr)
    fade = max(1, int(cfg.fade_s * sr))
    pieces: list[np.ndarray] = []
    cursor = start
    for (_, e1), (s2, _) in zip(speech, speech[1:], strict=False):
        a, b = int(e1 * sr), int(s2 * sr)
        if b - a <= keep + fade:
            continue
        half = keep // 2
        head_end, tail_start = a + half, b - (keep - half)
        pieces.append(audio[cursor : head_end + fade].copy())
        cursor = tail_start
        _crossfade_tail(pieces[-1], audio[cursor : cursor + fade], fade)
        cursor += fade
    pieces.append(audio[cursor:end])
    return np.concatenate(pieces).astype(np.float32)


def _crossfade_tail(piece: np.ndarray, nxt: np.ndarray, fade: int) -> None:
    """Blend the last `fade` samples of piece into nxt (in place)."""
    n = min(fade, len(nxt), len(piece))
    if n == 0:
        return
    w = np.linspace(1.0, 0.0, n, dtype=np.float32)
    piece[-n:] = piece[-n:] * w + nxt[:n] * (1 - w)
