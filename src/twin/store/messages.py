"""Reading the normalized message store: JSONL export and summary statistics."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import IO, Any

EXPORT_KEYS = (
    "id",
    "source",
    "locator",
    "format",
    "conversation_id",
    "sender",
    "sender_is_me",
    "timestamp",
    "text",
    "kind",
    "flags",
    "subject",
    "recipients",
)


def iter_export_records(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every message as the export record (exactly EXPORT_KEYS), in conversation and time order."""
    cur = conn.execute(
        f"SELECT {', '.join(EXPORT_KEYS)} FROM messages ORDER BY conversation_id, timestamp IS NULL, timestamp, "
        "source_sha256, seq"
    )
    for row in cur:
        rec = dict(zip(EXPORT_KEYS, row, strict=True))
        rec["sender_is_me"] = bool(rec["sender_is_me"])
        rec["flags"] = json.loads(rec["flags"])
        rec["recipients"] = json.loads(rec["recipients"]) if rec["recipients"] is not None else None
        yield rec


def write_jsonl(conn: sqlite3.Connection, out: IO[str]) -> int:
    n = 0
    for rec in iter_export_records(conn):
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        n += 1
    return n


def _grouped(conn: sqlite3.Connection, column: str, limit: int | None = None) -> dict[str, int]:
    sql = f"SELECT coalesce({column}, '(none)') AS k, count(*) AS n FROM messages GROUP BY k ORDER BY n DESC, k"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return {r[0]: r[1] for r in conn.execute(sql)}


def stats(conn: sqlite3.Connection, top_senders: int = 20) -> dict[str, Any]:
    total, mine, first, last, conversations = conn.execute(
        "SELECT count(*), coalesce(sum(sender_is_me), 0), min(timestamp), max(timestamp), "
        "count(DISTINCT conversation_id) FROM messages"
    ).fetchone()
    flags: dict[str, int] = {}
    for (flag_json,) in conn.execute("SELECT flags FROM messages WHERE flags != '[]'"):
        for f in json.loads(flag_json):
            flags[f] = flags.get(f, 0) + 1
    return {
        "messages": total,
        "mine": mine,
        "conversations": conversations,
        "first": first,
        "last": last,
        "by_source": _grouped(conn, "source"),
        "by_format": _grouped(conn, "format"),
        "by_kind": _grouped(conn, "kind"),
        "by_sender": _grouped(conn, "sender", top_senders),
        "flags": dict(sorted(flags.items())),
    }
