"""Style exemplars: the owner's own messages most similar to a drafting request.

Ranking is BM25 over an SQLite FTS5 index of the owner's text messages (migration 0005). BM25 was
chosen over embeddings because it is already inside SQLite, needs no model load on the write path
(first-token latency matters here), and lexical overlap with the request is a good proxy for
"how the owner wrote about this kind of thing". With no overlap at all, the owner's most recent
substantial messages stand in, so drafts still sound like the owner."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass

from twin.store.fts import fts_query as shared_fts_query

# Words of drafting requests themselves ("write a reply thanking …"), not of their topic.
_REQUEST_WORDS = frozenset(("please", "draft", "reply", "write", "message", "email", "thanks", "thank"))

_FILTER = "m.sender_is_me = 1 AND m.kind = 'text' AND (m.flags = '[]' OR m.flags IS NULL)"


@dataclass(frozen=True)
class Exemplar:
    id: str
    text: str
    subject: str | None = None


def fts_query(text: str, max_terms: int = 24) -> str:
    """An FTS5 OR-query of the distinct content words in `text` (each quoted, so no syntax leaks in)."""
    return shared_fts_query(text, min_chars=3, max_terms=max_terms, stop=_REQUEST_WORDS)


def _usable(text: str, min_chars: int, max_chars: int) -> bool:
    return min_chars <= len(text.strip()) <= max_chars


def find_exemplars(
    conn: sqlite3.Connection,
    request: str,
    k: int = 4,
    *,
    min_chars: int = 20,
    max_chars: int = 800,
    exclude_conversations: frozenset[str] = frozenset(),
) -> list[Exemplar]:
    """Up to k of the owner's messages for `request`: BM25 matches first, recent messages as fill-in.
    Messages of `exclude_conversations` never come back (an evaluation keeps its held-out replies out)."""
    if k <= 0:
        return []
    out: list[Exemplar] = []
    seen: set[str] = set()

    def take(rows: list[sqlite3.Row]) -> None:
        for row in rows:
            text = row["text"].strip()
            key = " ".join(text.lower().split())
            if row["conversation_id"] in exclude_conversations:
                continue
            if len(out) < k and key not in seen and _usable(text, min_chars, max_chars):
                seen.add(key)
                out.append(Exemplar(row["id"], text, row["subject"]))

    query = fts_query(request)
    if query:
        with contextlib.suppress(sqlite3.OperationalError):  # an index problem must not block drafting
            take(
                conn.execute(
                    "SELECT m.id, m.text, m.subject, m.conversation_id FROM writing_fts "
                    "JOIN messages m ON m.rowid = writing_fts.rowid "
                    f"WHERE writing_fts MATCH ? AND {_FILTER} ORDER BY bm25(writing_fts) LIMIT ?",
                    (query, k * 8 + len(exclude_conversations) * 4),
                ).fetchall()
            )
    if len(out) < k:
        take(
            conn.execute(
                f"SELECT m.id, m.text, m.subject, m.conversation_id FROM messages m WHERE {_FILTER} "
                f"AND length(m.text) BETWEEN ? AND ? ORDER BY m.timestamp DESC, m.seq DESC LIMIT ?",
                (min_chars, max_chars, k * 8 + len(exclude_conversations) * 4),
            ).fetchall()
        )
    return out
