"""Quality scores, best-of-cluster for near-duplicates, selection for quality and diversity, and the
train/validation split by conversation. Every choice is deterministic given the seed."""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence

from twin.dataset.records import Sample

_PLACEHOLDER = re.compile(r"<[A-Z]+_\d+>")


def quality(sample: Sample, recency: float) -> float:
    """Higher is better: a real reply with context, a natural length, few placeholders, recent."""
    n = len(sample.target)
    length = min(1.0, n / 120) if n <= 1200 else max(0.3, 1.0 - (n - 1200) / 4000)
    kind = {"chat_reply": 1.0, "email_reply": 1.0, "email_new": 0.7}.get(sample.kind, 0.5)
    placeholders = len(_PLACEHOLDER.findall(sample.target))
    privacy = 1.0 / (1.0 + 0.5 * placeholders)
    return round(length * kind * privacy + 0.3 * recency, 6)


def score_all(samples: Sequence[Sample]) -> None:
    """Set sample.score; recency is the rank of the timestamp among all samples (0 oldest, 1 newest)."""
    stamps = sorted({s.ts for s in samples if s.ts is not None})
    rank = {ts: i / max(1, len(stamps) - 1) for i, ts in enumerate(stamps)}
    for s in samples:
        s.score = quality(s, rank.get(s.ts, 0.0) if s.ts is not None else 0.0)


def best_of_clusters(samples: Sequence[Sample], clusters: list[list[int]]) -> tuple[list[Sample], list[Sample]]:
    """(kept, removed): each cluster keeps its highest-scoring member (ties: smallest id)."""
    removed_idx: set[int] = set()
    for cluster in clusters:
        best = min(cluster, key=lambda i: (-samples[i].score, samples[i].id))
        removed_idx.update(i for i in cluster if i != best)
    kept = [s for i, s in enumerate(samples) if i not in removed_idx]
    removed = [s for i, s in enumerate(samples) if i in removed_idx]
    return kept, removed


def _month(s: Sample) -> str:
    return s.ts.strftime("%Y-%m") if s.ts else "unknown"


def _tiebreak(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:6], "big")


def select(samples: Sequence[Sample], limit: int, seed: int) -> list[Sample]:
    """Greedy pick by score, discounted by how many were already taken from the same contact and month,
    so the set spreads over people and time instead of being the top of one chat."""
    if len(samples) <= limit:
        return sorted(samples, key=lambda s: s.id)
    per_contact: Counter[str] = Counter()
    per_month: Counter[str] = Counter()

    def gain(s: Sample) -> float:
        return s.score / math.sqrt(1 + per_contact[s.contact]) / (1 + per_month[_month(s)]) ** 0.3

    heap = [(-gain(s), _tiebreak(seed, s.id), i) for i, s in enumerate(samples)]
    heapq.heapify(heap)
    chosen: list[Sample] = []
    while heap and len(chosen) < limit:
        neg, tb, i = heapq.heappop(heap)
        s = samples[i]
        current = gain(s)
        if current < -neg - 1e-12:  # stale: re-insert with the current gain
            heapq.heappush(heap, (-current, tb, i))
            continue
        chosen.append(s)
        per_contact[s.contact] += 1
        per_month[_month(s)] += 1
    return sorted(chosen, key=lambda s: s.id)


def split(samples: Sequence[Sample], val_fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Whole conversations go to validation, in a seeded order, until the share is reached."""
    if val_fraction <= 0 or len(samples) < 2:
        return list(samples), []
    by_conv: dict[str, list[Sample]] = {}
    for s in samples:
        by_conv.setdefault(s.conversation_id, []).append(s)
    want = max(1, round(len(samples) * val_fraction))
    val_convs: set[str] = set()
    taken = 0
    for cid in sorted(by_conv, key=lambda c: _tiebreak(seed, c)):
        if taken >= want or len(val_convs) >= len(by_conv) - 1:
            break
        if taken and taken + len(by_conv[cid]) > want * 1.5:
            continue
        val_convs.add(cid)
        taken += len(by_conv[cid])
    train = [s for s in samples if s.conversation_id not in val_convs]
    val = [s for s in samples if s.conversation_id in val_convs]
    return train, val
