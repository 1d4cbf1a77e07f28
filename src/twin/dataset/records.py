"""Plain records on the hot path: a stored message as the dataset builder sees it, and a sample."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class Msg:
    id: str
    conversation_id: str
    seq: int
    sender: str
    is_me: bool
    ts: datetime | None  # naive UTC when the export had a zone, naive local otherwise
    text: str
    kind: str
    flags: list[str]
    fmt: str
    locator: str
    subject: str | None = None
    sender_address: str | None = None
    recipients: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_email(self) -> bool:
        return self.conversation_id.startswith("email:")


@dataclass(slots=True)
class Sample:
    """One training example before it is written: `context` is a list of (role, text) turns that ends
    with a user turn; `target` is the owner's text."""

    id: str
    source: str  # "chat" or "email"
    kind: str  # "chat_reply", "email_reply", "email_new"
    conversation_id: str
    contact: str  # who the owner was writing to (display name)
    ts: datetime | None
    context: list[tuple[str, str]]
    target: str
    message_ids: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    lang: str = "und"
    score: float = 0.0


def sample_id(conversation_id: str, message_ids: list[str]) -> str:
    """Stable across rebuilds: the conversation and the owner messages that make the target."""
    h = hashlib.sha256(conversation_id.encode("utf-8"))
    for mid in message_ids:
        h.update(b"\0" + mid.encode("utf-8"))
    return h.hexdigest()[:16]


def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _json(value: str | None, default: Any) -> Any:
    if not value:
        return default
    try:
        out = json.loads(value)
    except ValueError:
        return default
    return out if isinstance(out, type(default)) else default


def read_messages(conn: sqlite3.Connection) -> Iterator[Msg]:
    """Every stored message, ordered by conversation then original position."""
    rows = conn.execute(
        "SELECT id, source, locator, format, conversation_id, seq, sender, sender_address, sender_is_me, "
        "timestamp, text, kind, flags, subject, recipients, extra FROM messages "
        "ORDER BY conversation_id, seq, id"
    )
    for r in rows:
        yield Msg(
            id=r["id"],
            conversation_id=r["conversation_id"],
            seq=r["seq"],
            sender=r["sender"] or r["sender_address"] or "unknown",
            is_me=bool(r["sender_is_me"]),
            ts=parse_ts(r["timestamp"]),
            text=r["text"] or "",
            kind=r["kind"],
            flags=_json(r["flags"], []),
            fmt=r["format"],
            locator=r["locator"] or "",
            subject=r["subject"],
            sender_address=r["sender_address"],
            recipients=_json(r["recipients"], []),
            extra=_json(r["extra"], {}),
        )
