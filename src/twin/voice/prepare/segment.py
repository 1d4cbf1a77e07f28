"""Segmentation of a recording's speech regions into 2-15 s utterances, cut at pauses.

Lengths are counted as they will be after pause shortening (each pause counts at most max_pause_s), so
the written clips land inside the bounds."""

from __future__ import annotations

import numpy as np

from twin.voice.config import SegmentConfig, SilenceConfig

Region = tuple[float, float]


def _eff_len(group: list[Region], max_pause: float, edge: float) -> float:
    speech = sum(e - s for s, e in group)
    pauses = sum(min(b[0] - a[1], max_pause) for a, b in zip(group, group[1:], strict=False))
    return speech + pauses + 2 * edge


def split_long(region: Region, levels: np.ndarray, frame_s: float, max_len: float, target: float) -> list[Region]:
    """Cut a region with no usable pause into pieces near `target` seconds, each cut at the quietest frame
    within ±1 s of the even split point (never longer than max_len)."""
    s, e = region
    out: list[Region] = []
    while e - s > max_len:
        want = s + min(target, (e - s) / 2)
        lo, hi = int((want - 1.0) / frame_s), int((want + 1.0) / frame_s)
        window = levels[max(lo, 0) : max(min(hi, len(levels)), lo + 1)]
        cut = (max(lo, 0) + int(np.argmin(window))) * frame_s if len(window) else want
        cut = min(max(cut, s + 1.0), s + max_len)
        out.append((s, cut))
        s = cut
    out.append((s, e))
    return out


def plan_utterances(
    speech: list[Region], levels: np.ndarray, frame_s: float, seg: SegmentConfig, sil: SilenceConfig
) -> list[list[Region]]:
    """Group speech regions into utterances of seg.min_s-seg.max_s (as written), splitting at pauses of
    at least seg.split_pause_s once an utterance reaches seg.target_s. Groups still too short are
    merged with a neighbour when that fits, else dropped."""
    budget = seg.max_s - 2 * sil.edge_s
    regions: list[Region] = []
    for r in speech:
        regions.extend(split_long(r, levels, frame_s, budget, seg.target_s))
    groups: list[list[Region]] = []
    cur: list[Region] = []
    for r in regions:
        if cur:
            gap = r[0] - cur[-1][1]
            too_long = _eff_len([*cur, r], sil.max_pause_s, sil.edge_s) > seg.max_s
            long_enough = _eff_len(cur, sil.max_pause_s, sil.edge_s) >= seg.target_s
            if too_long or (long_enough and gap >= seg.split_pause_s):
                groups.append(cur)
                cur = []
        cur.append(r)
    if cur:
        groups.append(cur)
    return _merge_short(groups, seg, sil)


def _merge_short(groups: list[list[Region]], seg: SegmentConfig, sil: SilenceConfig) -> list[list[Region]]:
    out: list[list[Region]] = []
    for g in groups:
        if out and _eff_len(g, sil.max_pause_s, sil.edge_s) < seg.min_s:
            merged = out[-1] + g
            if _eff_len(merged, sil.max_pause_s, sil.edge_s) <= seg.max_s:
                out[-1] = merged
                continue
        if out and _eff_len(out[-1], sil.max_pause_s, sil.edge_s) < seg.min_s:
            merged = out[-1] + g
            if _eff_len(merged, sil.max_pause_s, sil.edge_s) <= seg.max_s:
                out[-1] = merged
                continue
        out.append(g)
    return [g for g in out if seg.min_s <= _eff_len(g, sil.max_pause_s, sil.edge_s) <= seg.max_s]
