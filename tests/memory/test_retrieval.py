"""Recall's BM25 leg on a real profile database: terms that match a large share of many memories are
left out (their cost grows with the rows, their weight does not), the rare words still find the row."""

from __future__ import annotations

from twin.chat.personas import now
from twin.ids import new_id
from twin.memory.retrieval import bm25_ranked, informative_terms
from twin.profiles import ProfileManager
from twin.settings import load_settings
from twin.store.db import connect


def _fill(conn, texts: list[str]) -> list[str]:
    ids, stamp = [new_id() for _ in texts], now()
    with conn:
        conn.executemany(
            "INSERT INTO memories (id, kind, scope, text, fingerprint, importance, created, updated) "
            "VALUES (?, 'fact', 'user', ?, ?, 0.5, ?, ?)",
            [(i, t, i, stamp, stamp) for i, t in zip(ids, texts, strict=True)],
        )
    return ids


def test_common_terms_are_dropped_only_among_many_memories() -> None:
    conn = connect(ProfileManager(load_settings()).create("me"))
    _fill(conn, [f"My friend number {n} lives in Leeds." for n in range(900)])
    terms = ['"where"', '"friend"', '"kenji"', '"lives"']
    assert informative_terms(conn, terms) == terms  # few memories: every term counts
    ids = _fill(conn, [f"My friend number {n} lives in York." for n in range(2100)] + ["Kenji lives in Osaka."])
    assert informative_terms(conn, terms) == ['"where"', '"kenji"']  # "friend"/"lives" are in ~all 3001 rows
    assert bm25_ranked(conn, "Where does my friend Kenji live?", None, False, 5)[0] == ids[-1]
    assert bm25_ranked(conn, "my friend lives", None, False, 5) == []  # nothing informative left: vectors carry it
