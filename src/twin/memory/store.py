"""Memory rows in the profile's SQLite (the truth) with their FTS5 entries (kept by triggers) and vectors
in the configured vector store (an index). Deletes are hard: row, FTS entry, vector, and a keyed-hash
tombstone per source turn so re-extracting that turn never brings the memory back; the FTS index is
optimized and the WAL checkpointed so the text does not linger in the file."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from twin.chat.personas import now
from twin.errors import NotFound
from twin.ids import check_id, new_id
from twin.memory.english import normalize
from twin.memory.models import MemoryItem, partition
from twin.profiles import Profile
from twin.providers.embeddings import Embeddings
from twin.providers.vectorstore import VectorItem, VectorStore

_SELECT = "SELECT m.*, p.name AS persona FROM memories m LEFT JOIN personas p ON p.id = m.persona_id"
_COLUMNS = (
    "id", "kind", "scope", "persona_id", "conversation_id", "text", "subject", "fingerprint", "category", "status",
    "superseded_by", "importance", "reason", "extractor", "source_message_ids", "mentions", "created", "updated",
    "last_used",
)  # fmt: skip


def _key(profile: Profile) -> bytes:
    path = profile.root / "memory.key"
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


def row_item(row: sqlite3.Row) -> MemoryItem:
    data = dict(row)
    data["source_message_ids"] = json.loads(data["source_message_ids"])
    return MemoryItem(**data)


class MemoryStore:
    def __init__(
        self, profile: Profile, conn: sqlite3.Connection, vectors: VectorStore, embeddings: Embeddings
    ) -> None:
        self.profile = profile
        self.conn = conn
        self.vectors = vectors
        self.embeddings = embeddings
        self._hkey = _key(profile)
        self.lock = threading.RLock()
        conn.execute("PRAGMA secure_delete=ON")

    # ---- identity ---------------------------------------------------------------------------
    def fingerprint(self, text: str) -> str:
        return hmac.new(self._hkey, normalize(text).encode("utf-8"), hashlib.sha256).hexdigest()

    def tombstoned(self, fingerprint: str, message_ids: Sequence[str]) -> bool:
        if not message_ids:
            return False
        marks = ",".join("?" * len(message_ids))
        row = self.conn.execute(
            f"SELECT 1 FROM memory_tombstones WHERE fingerprint = ? AND message_id IN ({marks}) LIMIT 1",
            [fingerprint, *message_ids],
        ).fetchone()
        return row is not None

    # ---- reads ------------------------------------------------------------------------------
    def find(self, memory_id: str) -> MemoryItem | None:
        row = self.conn.execute(f"{_SELECT} WHERE m.id = ?", (memory_id,)).fetchone()
        return row_item(row) if row is not None else None

    def get(self, memory_id: str) -> MemoryItem:
        item = self.find(check_id(memory_id, "memory id"))
        if item is None:
            raise NotFound(f"No memory '{memory_id}' in this profile.", "List memories with: twin memory list")
        return item

    def many(self, ids: Sequence[str]) -> dict[str, MemoryItem]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {r["id"]: row_item(r) for r in self.conn.execute(f"{_SELECT} WHERE m.id IN ({marks})", list(ids))}

    def query(
        self,
        *,
        persona_id: str | None = None,
        scope: str = "all",
        kind: str | None = None,
        include_superseded: bool = False,
        subject: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[MemoryItem]:
        where, args = _where(persona_id, scope, kind, include_superseded)
        if subject is not None:
            where.append("m.subject = ?")
            args.append(subject)
        sql = f"{_SELECT} WHERE {' AND '.join(where) or '1'} ORDER BY m.created DESC LIMIT ? OFFSET ?"
        return [row_item(r) for r in self.conn.execute(sql, [*args, limit, offset])]

    def superseded_turns(self, message_ids: Sequence[str]) -> set[str]:
        """Those of `message_ids` that a superseded fact was taken from (their words are out of date)."""
        if not message_ids:
            return set()
        marks = ",".join("?" * len(message_ids))
        rows = self.conn.execute(
            "SELECT DISTINCT j.value FROM memories m, json_each(m.source_message_ids) j "
            f"WHERE m.kind = 'fact' AND m.status = 'superseded' AND j.value IN ({marks})",
            list(message_ids),
        )
        return {r[0] for r in rows}

    def active_by_fingerprint(self, fingerprint: str, scope: str, persona_id: str | None) -> MemoryItem | None:
        row = self.conn.execute(
            f"{_SELECT} WHERE m.fingerprint = ? AND m.scope = ? AND m.persona_id IS ? AND m.status = 'active'",
            (fingerprint, scope, persona_id),
        ).fetchone()
        return row_item(row) if row is not None else None

    def iter_all(self) -> Iterator[MemoryItem]:
        for row in self.conn.execute(f"{_SELECT} ORDER BY m.created"):
            yield row_item(row)

    # ---- writes -----------------------------------------------------------------------------
    def new_item(self, **fields: Any) -> MemoryItem:
        stamp = now()
        base: dict[str, Any] = {
            "id": new_id(), "persona_id": None, "conversation_id": None, "subject": None, "category": None,
            "status": "active", "superseded_by": None, "importance": 0.5, "reason": "", "extractor": "",
            "source_message_ids": [], "mentions": 1, "created": stamp, "updated": stamp, "last_used": None,
        }  # fmt: skip
        base.update(fields)
        base.setdefault("fingerprint", self.fingerprint(base["text"]))
        return MemoryItem(**base)

    def add(self, items: Sequence[MemoryItem]) -> None:
        if not items:
            return
        vectors = self.embeddings.embed([i.text for i in items])
        with self.lock, self.conn:
            self.conn.executemany(
                f"INSERT INTO memories ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                [_values(i) for i in items],
            )
        self.vectors.upsert([VectorItem(i.id, i.partition, v) for i, v in zip(items, vectors, strict=True)])

    def reinforce(self, item: MemoryItem, message_ids: Sequence[str], importance: float) -> MemoryItem:
        ids = list(dict.fromkeys([*item.source_message_ids, *message_ids]))
        item.importance = min(1.0, max(item.importance, importance) + 0.05)
        item.mentions += 1
        item.source_message_ids, item.updated = ids, now()
        with self.lock, self.conn:
            self.conn.execute(
                "UPDATE memories SET mentions = ?, importance = ?, source_message_ids = ?, updated = ? WHERE id = ?",
                (item.mentions, item.importance, json.dumps(ids), item.updated, item.id),
            )
        return item

    def supersede(self, old: Sequence[MemoryItem], new_id_: str) -> None:
        if not old:
            return
        stamp = now()
        with self.lock, self.conn:
            self.conn.executemany(
                "UPDATE memories SET status = 'superseded', superseded_by = ?, updated = ? WHERE id = ?",
                [(new_id_, stamp, o.id) for o in old],
            )
        vectors = self.embeddings.embed([o.text for o in old])
        self.vectors.upsert(
            [
                VectorItem(o.id, partition(o.scope, o.persona_id, "superseded"), v)
                for o, v in zip(old, vectors, strict=True)
            ]
        )

    def edit(self, memory_id: str, text: str) -> MemoryItem:
        item = self.get(memory_id)
        item.text, item.updated = text, now()
        item.fingerprint = self.fingerprint(text)
        item.extractor, item.reason = "edited", "edited by the user"
        with self.lock, self.conn:
            self.conn.execute(
                "UPDATE memories SET text = ?, fingerprint = ?, extractor = ?, reason = ?, updated = ? WHERE id = ?",
                (text, item.fingerprint, item.extractor, item.reason, item.updated, item.id),
            )
        self.vectors.upsert([VectorItem(item.id, item.partition, self.embeddings.embed([text])[0])])
        self.scrub()
        return item

    def touch(self, ids: Sequence[str]) -> None:
        if ids:
            with self.lock, self.conn:
                self.conn.executemany("UPDATE memories SET last_used = ? WHERE id = ?", [(now(), i) for i in ids])

    def delete(self, items: Sequence[MemoryItem]) -> int:
        """Hard delete: rows (and FTS entries), vectors, plus tombstones so re-extraction stays quiet."""
        if not items:
            return 0
        stamp = now()
        tombs = [(i.fingerprint, mid, stamp) for i in items for mid in i.source_message_ids]
        ids = [i.id for i in items]
        self.vectors.delete(ids)
        with self.lock, self.conn:
            self.conn.executemany("INSERT OR IGNORE INTO memory_tombstones VALUES (?, ?, ?)", tombs)
            self.conn.executemany(
                "UPDATE memories SET superseded_by = NULL WHERE superseded_by = ?", [(i,) for i in ids]
            )
            self.conn.executemany("DELETE FROM memories WHERE id = ?", [(i,) for i in ids])
        self.scrub()
        return len(ids)

    def scrub(self) -> None:
        """Merge the FTS index (old segments still hold deleted terms) and checkpoint the WAL."""
        with self.lock:
            self.conn.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
            self.conn.commit()
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def reconcile_if_needed(self) -> dict[str, int] | None:
        """reconcile() when the index and the rows disagree in number (a crash between the two deletes,
        or memories from before this vector store was chosen); None when they agree."""
        rows = int(self.conn.execute("SELECT count(*) FROM memories").fetchone()[0])
        return None if rows == self.vectors.count() else self.reconcile()

    def reconcile(self) -> dict[str, int]:
        """Drop vectors whose row is gone (e.g. a crash between the two deletes) and index rows with no vector."""
        indexed = self.vectors.ids()
        rows = {r[0]: r for r in self.conn.execute("SELECT id FROM memories")}
        orphans = indexed - set(rows)
        self.vectors.delete(orphans)
        missing = [i for i in self.many(list(set(rows) - indexed)).values()]
        if missing:
            vecs = self.embeddings.embed([i.text for i in missing])
            self.vectors.upsert([VectorItem(i.id, i.partition, v) for i, v in zip(missing, vecs, strict=True)])
        return {"orphan_vectors": len(orphans), "indexed": len(missing)}


def _values(item: MemoryItem) -> list[Any]:
    out = []
    for col in _COLUMNS:
        value = getattr(item, col)
        out.append(json.dumps(value) if col == "source_message_ids" else value)
    return out


def _where(
    persona_id: str | None, scope: str, kind: str | None, include_superseded: bool
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if scope == "user":
        where.append("m.scope = 'user'")
    elif scope == "persona":
        where.append("m.scope = 'persona'")
        if persona_id:
            where.append("m.persona_id = ?")
            args.append(persona_id)
    elif persona_id:  # all scopes visible to this persona: the user's plus its own
        where.append("(m.scope = 'user' OR m.persona_id = ?)")
        args.append(persona_id)
    if kind:
        where.append("m.kind = ?")
        args.append(kind)
    if not include_superseded:
        where.append("m.status = 'active'")
    return where, args


def db_files(profile: Profile) -> list[Path]:
    """Every file a memory's text or vector may be stored in (databases and their write-ahead logs)."""
    bases = (profile.db_path, profile.vectors_db_path)
    return [p for b in bases for p in (b, Path(str(b) + "-wal")) if p.exists()]
