"""Writing parsed messages to the store in batches, idempotently.

Each message gets a content fingerprint and is written with INSERT OR IGNORE, so re-importing the
same export adds nothing and an interrupted import (even kill -9) completes when run again; each
message is also linked to every import that held it (message_sources), new or not. A chat's first
batch is checked against the chats already stored (same_chat) before anything is written."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from twin.ids import new_id
from twin.ingest.record import ParsedMessage
from twin.ingest.same_chat import existing_conversation

BATCH = 2000
_COLUMNS = (
    "id",
    "fingerprint",
    "source",
    "source_sha256",
    "locator",
    "format",
    "conversation_id",
    "seq",
    "sender",
    "sender_address",
    "timestamp",
    "text",
    "kind",
    "flags",
    "subject",
    "recipients",
    "extra",
)
_INSERT = f"INSERT OR IGNORE INTO messages ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_LINK = (
    "INSERT OR IGNORE INTO message_sources (message_id, source_sha256) SELECT id, ? FROM messages WHERE fingerprint = ?"
)
_MERGEABLE = ("whatsapp",)  # formats whose conversation id comes from the file name


class _Fingerprinter:
    """Content key per message. Identical messages in the same minute are told apart by their order; the
    occurrence table is reset whenever the timestamp changes, so memory stays flat."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()
        self._ts: str | None = None

    def __call__(self, m: ParsedMessage, fmt_family: str, ts: str | None) -> str:
        if m.message_id:
            return hashlib.sha256(f"mid\0{m.message_id}\0{ts}".encode()).hexdigest()
        if ts != self._ts:
            self._seen.clear()
            self._ts = ts
        where = m.locator if ts is None else ""  # untimed records (subtitle cues) are positional
        base = "\0".join((fmt_family, m.conversation_id, m.sender or "", ts or "", where, m.text))
        self._seen[base] += 1
        return hashlib.sha256(f"{base}\0{self._seen[base]}".encode()).hexdigest()


def _family(fmt: str) -> str:
    return "email" if fmt in ("mbox", "eml", "maildir", "msg", "pst") else fmt


class SourceWriter:
    """Stores the messages of one source. add() buffers, flush() writes a batch in one transaction;
    counts go to `messages` (parsed) and `new` (not stored before)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        fmt: str,
        source_name: str,
        sha256: str,
        seq: int = 0,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.conn, self.fmt, self.source_name, self.sha256 = conn, fmt, source_name, sha256
        self.seq = seq
        self.on_progress = on_progress
        self.messages = self.new = 0
        self.merged_into: str | None = None  # the stored chat this source was recognised as
        self._pending: list[ParsedMessage] = []
        self._fingerprint = _Fingerprinter()
        self._remap: dict[str, str] | None = None if fmt in _MERGEABLE else {}

    def add(self, m: ParsedMessage) -> None:
        self._pending.append(m)
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        if self._remap is None:
            self._remap = self._resolve_conversation()
        rows = [self._row(m) for m in self._pending]
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")  # so the rowid count below sees only this batch
            top = self.conn.execute("SELECT coalesce(max(rowid), 0) FROM messages").fetchone()[0]
            self.conn.executemany(_INSERT, rows)
            new = self.conn.execute("SELECT count(*) FROM messages WHERE rowid > ?", (top,)).fetchone()[0]
            if new < len(rows):
                # Some were stored before: link them to this import too (new rows are linked by a trigger).
                self.conn.executemany(_LINK, [(self.sha256, r[1]) for r in rows])
            self.new += new
        self.messages += len(rows)
        self._pending.clear()
        if self.on_progress:
            self.on_progress(len(rows))

    def _resolve_conversation(self) -> dict[str, str]:
        own = self._pending[0].conversation_id
        found = existing_conversation(self.conn, self._pending)
        if found is None or found == own:
            return {}
        self.merged_into = found
        return {own: found}

    def _row(self, m: ParsedMessage) -> tuple:
        if self._remap:
            m.conversation_id = self._remap.get(m.conversation_id, m.conversation_id)
        self.seq += 1
        ts = m.timestamp.isoformat() if isinstance(m.timestamp, datetime) else None
        extra = dict(m.extra)
        if m.sent_hint:
            extra["sent_folder"] = True
        if m.message_id:
            extra.setdefault("message_id", m.message_id)
        return (
            new_id(),
            self._fingerprint(m, _family(self.fmt), ts),
            self.source_name,
            self.sha256,
            m.locator,
            self.fmt,
            m.conversation_id,
            self.seq,
            m.sender,
            m.sender_address,
            ts,
            m.text,
            m.kind,
            json.dumps(sorted(set(m.flags))),
            m.subject,
            json.dumps(m.recipients) if m.recipients is not None else None,
            json.dumps(extra, ensure_ascii=False, default=str),
        )
