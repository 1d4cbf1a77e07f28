"""The normalized message store: JSONL export, summary statistics, the imports it came from and
undoing them (forget)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
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


# ---------------------------------------------------------------- imports and undoing them


@dataclass
class ImportRecord:
    sha256: str
    source: str  # the file or folder name given to `twin ingest`
    format: str
    imported_at: str
    messages: int  # messages this import holds now (shared ones included)


@dataclass
class Forgotten:
    """What undoing imports (or a conversation) removed from the store."""

    messages: int = 0  # messages deleted
    kept: int = 0  # messages of a forgotten import kept because another import holds them too
    imports: list[ImportRecord] = field(default_factory=list)  # import records deleted


def list_imports(conn: sqlite3.Connection) -> list[ImportRecord]:
    rows = conn.execute(
        "SELECT i.source_sha256, i.source, i.format, i.imported_at, "
        "(SELECT count(*) FROM message_sources s WHERE s.source_sha256 = i.source_sha256) "
        "FROM imports i ORDER BY i.imported_at, i.source"
    ).fetchall()
    return [ImportRecord(*r) for r in rows]


def find_imports(conn: sqlite3.Connection, name: str) -> list[ImportRecord]:
    """Imports called `name`, or whose digest starts with `name` (at least 8 hex digits)."""
    found = [i for i in list_imports(conn) if i.source == name]
    if not found and _HEX_PREFIX.fullmatch(name):
        found = [i for i in list_imports(conn) if i.sha256.startswith(name.lower())]
    return found


def conversation_exists(conn: sqlite3.Connection, conversation_id: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM messages WHERE conversation_id = ? LIMIT 1", (conversation_id,)).fetchone()
        is not None
    )


def conversation_ids(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT conversation_id FROM messages ORDER BY 1")]


def forget_imports(conn: sqlite3.Connection, imports: list[ImportRecord]) -> Forgotten:
    """Delete what these imports brought: their links, the messages no other import holds, and their
    records. Runs in the caller's transaction. Messages that stay are re-attributed to an import that
    still holds them, so no message points at a deleted import."""
    shas = [i.sha256 for i in imports]
    out = Forgotten(imports=list(imports))
    _temp_ids(conn, "SELECT message_id FROM message_sources WHERE source_sha256 IN ({})", shas)
    conn.execute(f"DELETE FROM message_sources WHERE source_sha256 IN ({_marks(shas)})", shas)
    out.messages = _delete_unheld(conn)
    out.kept = conn.execute("SELECT count(*) FROM forget_ids").fetchone()[0] - out.messages
    conn.execute(
        "UPDATE messages SET source_sha256 = s.sha, source = coalesce(i.source, messages.source) FROM ("
        "  SELECT ms.message_id AS id, min(ms.source_sha256) AS sha FROM message_sources ms "
        "  JOIN forget_ids f ON f.id = ms.message_id GROUP BY ms.message_id"
        ") AS s LEFT JOIN imports i ON i.source_sha256 = s.sha "
        f"WHERE messages.id = s.id AND messages.source_sha256 IN ({_marks(shas)})",
        shas,
    )
    conn.execute(f"DELETE FROM imports WHERE source_sha256 IN ({_marks(shas)})", shas)
    conn.execute("DROP TABLE forget_ids")
    return out


def forget_conversation(conn: sqlite3.Connection, conversation_id: str) -> Forgotten:
    """Delete every message of a conversation, and the records of imports left holding nothing.
    Runs in the caller's transaction."""
    out = Forgotten()
    _temp_ids(conn, "SELECT id FROM messages WHERE conversation_id = ?", [conversation_id])
    held = [
        r[0]
        for r in conn.execute("SELECT DISTINCT source_sha256 FROM message_sources JOIN forget_ids ON id = message_id")
    ]
    conn.execute("DELETE FROM message_sources WHERE message_id IN (SELECT id FROM forget_ids)")
    out.messages = _delete_unheld(conn)
    conn.execute("DROP TABLE forget_ids")
    empty = [i for i in list_imports(conn) if i.sha256 in set(held) and i.messages == 0]
    conn.execute(f"DELETE FROM imports WHERE source_sha256 IN ({_marks(empty)})", [i.sha256 for i in empty])
    out.imports = empty
    return out


_HEX_PREFIX = re.compile(r"[0-9a-fA-F]{8,64}")


def _marks(values: list[Any]) -> str:
    return ", ".join("?" * len(values))


def _temp_ids(conn: sqlite3.Connection, select: str, params: list[str]) -> None:
    conn.execute("CREATE TEMP TABLE forget_ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute(f"INSERT OR IGNORE INTO forget_ids {select.format(_marks(params))}", params)


def _delete_unheld(conn: sqlite3.Connection) -> int:
    """Delete the candidate messages no import holds any more (the FTS triggers follow)."""
    cur = conn.execute(
        "DELETE FROM messages WHERE id IN (SELECT id FROM forget_ids) "
        "AND NOT EXISTS (SELECT 1 FROM message_sources s WHERE s.message_id = messages.id)"
    )
    return cur.rowcount
