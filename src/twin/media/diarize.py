"""Speaker diarization: who speaks when.

Speech regions (VAD) are cut into 1.5 s windows (0.75 s hop), each embedded by the "speaker" provider
(resemblyzer by default). Windows are clustered with scikit-learn's agglomerative clustering (cosine,
average linkage) cut at a distance threshold, which sets the number of speakers; clusters holding too
few windows to be a speaker are folded into the nearest one. The centroids are then refined
(nearest-centroid passes) and every 0.1 s frame gets the speaker whose centroid its covering windows
are closest to: segments are cut where that label changes (resegmentation). A window that sounds
unlike its speaker and spans a change of speaker holds two voices (or a turn too tight to cut), and
overlapping subtitle cues say the same: those frames are marked as overlap and never exported as one
character's clip. Clustering sees at most MAX_CLUSTER_WINDOWS windows (evenly sampled) so a two-hour
film stays in bounded memory; all windows are then assigned to the nearest centroid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.errors import InvalidInput, MissingDependency, TwinError
from twin.media.audio import AudioFile, Checkpoint
from twin.media.progress import ProgressFn, silent
from twin.media.project import Project
from twin.providers.speaker import SpeakerEncoder

WIN_S = 1.5
HOP_S = 0.75
MIN_WIN_S = 0.5
FRAME_S = 0.1
BLOCK = 32  # windows per checkpoint file
MAX_CLUSTER_WINDOWS = 2500
MAX_SPEAKERS = 12
Region = tuple[float, float]


@dataclass
class DiarizeOptions:
    max_speakers: int = MAX_SPEAKERS
    num_speakers: int | None = None  # force a count (when the user knows it)
    threshold: float = 0.29  # cosine distance at which clusters stop merging (resemblyzer: same voice ~0.15)
    min_share: float = 0.02  # a speaker holds at least this share of the windows (else: folded into the nearest)
    overlap_drop: float = 0.05  # a window this far under its cluster's typical similarity, spanning a
    # change of speaker, holds two voices (or a turn too close to cut cleanly): marked as overlap
    min_segment_s: float = 0.4


def plan_windows(regions: list[Region]) -> list[Region]:
    out: list[Region] = []
    for s, e in regions:
        if e - s < MIN_WIN_S:
            continue
        if e - s <= WIN_S:
            out.append((s, e))
            continue
        t = s
        while t + WIN_S < e:
            out.append((t, t + WIN_S))
            t += HOP_S
        out.append((max(s, e - WIN_S), e))
    return [(round(a, 3), round(b, 3)) for a, b in out]


def embed_windows(
    project: Project, encoder: SpeakerEncoder, windows: list[Region], progress: ProgressFn = silent
) -> tuple[np.ndarray, int]:
    """((n, dim) unit embeddings, NaN rows where a window could not be embedded; windows reused from an
    interrupted run). Resumable per block."""
    audio = AudioFile(project.audio)
    key = {"encoder": encoder.name, "windows": len(windows), "first": windows[:1], "last": windows[-1:]}
    ck = Checkpoint(project.work_dir, "embeddings", key)
    blocks = []
    resumed = 0
    for b in range(0, len(windows), BLOCK):
        k = b // BLOCK
        arr = ck.load_array(k)
        if arr is not None and len(arr) == len(windows[b : b + BLOCK]):
            resumed += len(arr)
        else:
            rows = []
            for s, e in windows[b : b + BLOCK]:
                try:
                    rows.append(encoder.embed(audio.read(s, e), audio.sample_rate))
                except TwinError:
                    rows.append(np.full(encoder.dim, np.nan, dtype=np.float32))
            arr = np.stack(rows).astype(np.float32)
            ck.save_array(k, arr)
        blocks.append(arr)
        progress("speaker embeddings", min(len(windows), b + BLOCK), len(windows))
    ck.clear()
    return (np.concatenate(blocks) if blocks else np.zeros((0, encoder.dim), np.float32)), resumed


def _sklearn() -> Any:
    try:
        from sklearn import cluster, metrics
    except ImportError:
        raise MissingDependency.for_extra("Speaker clustering", "media", "sklearn") from None
    return cluster, metrics


def choose_clusters(emb: np.ndarray, opt: DiarizeOptions) -> np.ndarray:
    """Labels 0..k-1 for the rows of `emb`, k chosen automatically: agglomerative clustering (cosine, average
    linkage) cut at a distance threshold, clusters too small to be a speaker folded into the nearest one."""
    cluster, _ = _sklearn()
    n = len(emb)
    if n < 4:
        return np.zeros(n, dtype=int)
    if opt.num_speakers:
        k = min(opt.num_speakers, n)
        return cluster.AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(emb)
    labels = cluster.AgglomerativeClustering(
        n_clusters=None, distance_threshold=opt.threshold, metric="cosine", linkage="average"
    ).fit_predict(emb)
    counts = np.bincount(labels)
    big = np.argsort(counts)[::-1][: opt.max_speakers]
    big = big[counts[big] >= max(4, int(opt.min_share * n))]
    if len(big) <= 1:
        return np.zeros(n, dtype=int)
    cents = np.stack([_unit(emb[labels == i].mean(axis=0)) for i in big])
    return np.argmax(emb @ cents.T, axis=1)


def refine_centroids(emb: np.ndarray, labels: np.ndarray, min_windows: int = 4, passes: int = 5) -> np.ndarray:
    """Unit centroids after nearest-centroid passes; clusters with fewer than min_windows are merged away."""
    k = int(labels.max()) + 1 if len(labels) else 0
    cents = np.stack([_unit(emb[labels == i].mean(axis=0)) for i in range(k)]) if k else np.zeros((0, emb.shape[1]))
    for _ in range(passes):
        assign = np.argmax(emb @ cents.T, axis=1)
        counts = np.bincount(assign, minlength=len(cents))
        keep = counts >= min(min_windows, max(1, len(emb) // 10))
        if not keep.any():
            keep[np.argmax(counts)] = True
        cents = cents[keep]
        assign = np.argmax(emb @ cents.T, axis=1)
        cents = np.stack([_unit(emb[assign == i].mean(axis=0)) for i in range(len(cents))])
    return cents


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / (np.linalg.norm(v) or 1.0)).astype(np.float32)


@dataclass
class Diarization:
    windows: list[Region]
    embeddings: np.ndarray  # (n, dim), NaN rows unusable
    centroids: np.ndarray  # (k, dim), ordered by first appearance
    frame_labels: np.ndarray  # per FRAME_S frame: speaker index, -1 = no speech
    frame_overlap: np.ndarray  # per frame: True where two voices sound
    frame_score: np.ndarray  # per frame: similarity of the frame's windows to its speaker
    frame_second: np.ndarray  # per frame: the runner-up speaker (the other voice in an overlap), -1 if none


def diarize(
    windows: list[Region], emb: np.ndarray, regions: list[Region], duration_s: float, opt: DiarizeOptions
) -> Diarization:
    ok = np.all(np.isfinite(emb), axis=1)
    good = emb[ok]
    if len(good) == 0:
        raise InvalidInput(
            "No speech long enough to tell speakers apart was found in the soundtrack.",
            "Check that the right --audio-stream was chosen (a dialogue track, not music or commentary).",
        )
    step = max(1, int(np.ceil(len(good) / MAX_CLUSTER_WINDOWS)))
    sample = good[::step]
    labels = choose_clusters(sample, opt)
    cents = refine_centroids(good, _assign_all(good, sample, labels))
    cents = _order_by_appearance(cents, emb, ok)
    return _frames(windows, emb, ok, cents, regions, duration_s, opt)


def _assign_all(good: np.ndarray, sample: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    cents = np.stack([_unit(sample[labels == i].mean(axis=0)) for i in range(k)])
    return np.argmax(good @ cents.T, axis=1)


def _order_by_appearance(cents: np.ndarray, emb: np.ndarray, ok: np.ndarray) -> np.ndarray:
    first = np.argmax(np.nan_to_num(emb[ok]) @ cents.T, axis=1)
    order = list(dict.fromkeys(first.tolist()))
    order += [i for i in range(len(cents)) if i not in order]
    return cents[order]


def _frames(
    windows: list[Region],
    emb: np.ndarray,
    ok: np.ndarray,
    cents: np.ndarray,
    regions: list[Region],
    duration_s: float,
    opt: DiarizeOptions,
) -> Diarization:
    n = int(np.ceil(duration_s / FRAME_S))
    k = len(cents)
    score_sum = np.zeros((n, k))
    cover = np.zeros(n)
    sims = np.nan_to_num(emb) @ cents.T
    best = np.argmax(sims, axis=1)
    typical = np.array([np.median(sims[ok & (best == i), i]) if np.any(ok & (best == i)) else 1.0 for i in range(k)])
    low = np.zeros(len(windows), dtype=bool)
    for w, (s, e) in enumerate(windows):
        if not ok[w]:
            continue
        a, b = int(s / FRAME_S), min(n, int(np.ceil(e / FRAME_S)))
        score_sum[a:b] += sims[w]
        cover[a:b] += 1
        low[w] = k > 1 and sims[w, best[w]] < typical[best[w]] - opt.overlap_drop
    speech = np.zeros(n, dtype=bool)
    for s, e in regions:
        speech[int(s / FRAME_S) : min(n, int(np.ceil(e / FRAME_S)))] = True
    labels = np.where(cover > 0, np.argmax(score_sum, axis=1), -1)
    labels[~speech] = -1
    labels = _fill_speech(labels, speech)
    window_overlap = np.array(
        [
            bool(low[w]) and len({int(x) for x in labels[int(s / FRAME_S) : int(np.ceil(e / FRAME_S))] if x >= 0}) > 1
            for w, (s, e) in enumerate(windows)
        ],
        dtype=bool,
    )
    overlap = _overlap_frames(windows, window_overlap, n)
    overlap &= labels >= 0
    score = np.where(cover > 0, score_sum[np.arange(n), np.maximum(labels, 0)] / np.maximum(cover, 1), 0.0)
    second = np.argsort(score_sum, axis=1)[:, -2] if k > 1 else np.full(n, -1)
    return Diarization(windows, emb, cents, labels, overlap, score, np.where(overlap, second, -1))


def mark_overlaps(d: Diarization, regions: list[Region]) -> None:
    """Add overlap regions known from elsewhere (subtitle cues that overlap in time)."""
    n = len(d.frame_overlap)
    for s, e in regions:
        a, b = int(s / FRAME_S), min(n, int(np.ceil(e / FRAME_S)))
        d.frame_overlap[a:b] |= d.frame_labels[a:b] >= 0


def _fill_speech(labels: np.ndarray, speech: np.ndarray) -> np.ndarray:
    """Speech frames no window covered (short bursts) take the label of the nearest labelled frame."""
    out = labels.copy()
    idx = np.flatnonzero(labels >= 0)
    if not len(idx):
        return out
    missing = np.flatnonzero(speech & (labels < 0))
    if len(missing):
        pos = np.clip(np.searchsorted(idx, missing), 1, len(idx) - 1) if len(idx) > 1 else np.zeros_like(missing)
        left, right = idx[np.maximum(pos - 1, 0)], idx[pos]
        near = np.where(np.abs(missing - left) <= np.abs(right - missing), left, right)
        close = np.abs(near - missing) <= int(1.0 / FRAME_S)
        out[missing[close]] = labels[near[close]]
    return out


def _overlap_frames(windows: list[Region], flags: np.ndarray, n: int) -> np.ndarray:
    """Frames inside overlap windows, trimmed by a quarter window at each side (the window's edges may
    belong to one speaker only); an isolated flagged window still marks its centre."""
    out = np.zeros(n, dtype=bool)
    for w in np.flatnonzero(flags):
        s, e = windows[w]
        pad = (e - s) / 4
        out[int((s + pad) / FRAME_S) : min(n, int(np.ceil((e - pad) / FRAME_S)))] = True
    return out
