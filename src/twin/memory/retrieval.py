"""Hybrid recall: vector similarity and BM25 (SQLite FTS5) fused by reciprocal rank, then weighted by
importance and recency; facts a little ahead of raw chunks; superseded facts, and chunks quoting the turns
they came from, well behind; active items unless asked otherwise."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from twin.memory.models import MemoryItem, partition
from twin.memory.store import MemoryStore, _where
from twin.store.fts import fts_terms

RRF_K = 60
COMMON_FLOOR = 1000  # BM25 keeps every term while the memories are fewer than this
COMMON_SHARE = 0.02


@dataclass
class Recall:
    items: list[MemoryItem]
    timings: dict[str, float] = field(default_factory=dict)
    degraded: bool = False  # vector recall ran out of time; BM25 only


def informative_terms(conn: sqlite3.Connection, terms: list[str]) -> list[str]:
    """`terms` without those in more than COMMON_SHARE of the memories (at least COMMON_FLOOR).

    BM25 must score every row a term matches, so a term in a third of 100k memories ("friend", "live")
    costs tens of milliseconds while its IDF adds almost nothing to the ranking; the rare words (names,
    places) carry it, and the vector search covers the meaning. Counting stops at the cap, so the check
    costs well under a millisecond per term."""
    rows = int(conn.execute("SELECT coalesce(max(rowid), 0) FROM memories").fetchone()[0])  # >= the row count
    cap = max(COMMON_FLOOR, int(rows * COMMON_SHARE))
    if rows <= cap:
        return terms
    sql = "SELECT count(*) FROM (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)"
    return [t for t in terms if conn.execute(sql, (t, cap + 1)).fetchone()[0] <= cap]


def bm25_ranked(
    conn: sqlite3.Connection, query: str, persona_id: str | None, include_superseded: bool, limit: int
) -> list[str]:
    try:
        q = " OR ".join(informative_terms(conn, fts_terms(query, min_chars=2, max_terms=16)))
    except sqlite3.OperationalError:
        return []
    if not q:
        return []
    where, args = _where(persona_id, "all", None, include_superseded)
    sql = (
        "SELECT m.id FROM memories_fts JOIN memories m ON m.rowid = memories_fts.rowid WHERE memories_fts MATCH ? "
        f"{''.join(' AND ' + w for w in where)} ORDER BY bm25(memories_fts) LIMIT ?"
    )
    try:
        return [r[0] for r in conn.execute(sql, [q, *args, limit])]
    except sqlite3.OperationalError:  # a damaged index must not block a reply
        return []


def partitions_for(persona_id: str | None, include_superseded: bool) -> list[str]:
    parts = [partition("user", None)] + ([partition("persona", persona_id)] if persona_id else [])
    if include_superseded:
        parts += [partition("user", None, "superseded")]
        parts += [partition("persona", persona_id, "superseded")] if persona_id else []
    return parts


def vector_ranked(
    store: MemoryStore,
    query: str | npt.NDArray[np.float32],
    persona_id: str | None,
    include_superseded: bool,
    limit: int,
) -> list[str]:
    vec = store.embeddings.embed([query])[0] if isinstance(query, str) else query
    return [h.id for h in store.vectors.search(vec, limit, partitions_for(persona_id, include_superseded))]


def _age_days(stamp: str | None, now: datetime) -> float:
    if not stamp:
        return 365.0
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 365.0
    return max((now - then).total_seconds() / 86400, 0.0)


def fuse(
    store: MemoryStore,
    vector_ids: list[str],
    bm25_ids: list[str],
    k: int,
    half_life_days: float,
    kind: str | None = None,
) -> list[MemoryItem]:
    scores: dict[str, float] = {}
    for ranked in (vector_ids, bm25_ids):
        for rank, mid in enumerate(ranked):
            scores[mid] = scores.get(mid, 0.0) + 1.0 / (RRF_K + rank + 1)
    rows = store.many(list(scores))  # ids whose row is gone (deleted) simply drop out here
    # a chunk quoting the turn a superseded fact came from states the old value: rank it like that fact
    outdated = store.superseded_turns([m for i in rows.values() if i.kind == "chunk" for m in i.source_message_ids])
    now = datetime.now(UTC)
    out: list[MemoryItem] = []
    for mid, base in scores.items():
        item = rows.get(mid)
        if item is None or (kind and item.kind != kind):
            continue
        recency = math.pow(0.5, _age_days(item.updated, now) / half_life_days)
        weight = (0.5 + 0.5 * item.importance) * (0.75 + 0.25 * recency) * (1.0 if item.kind == "fact" else 0.85)
        stale = item.status != "active" or (item.kind == "chunk" and not outdated.isdisjoint(item.source_message_ids))
        item.score = base * weight * (0.5 if stale else 1.0)
        out.append(item)
    out.sort(key=lambda i: -(i.score or 0.0))
    return out[:k]
