"""Conversations and their messages in the profile's SQLite: UUIDv7 ids, role, text, timestamps, token
counts, the persona, and for assistant turns the model and whether the reply was interrupted (its text
is then exactly what was delivered). Also the rolling summary of older turns."""

from __future__ import annotations

import builtins
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from twin.chat.personas import now
from twin.errors import NotFound
from twin.ids import check_id, new_id

Role = Literal["user", "assistant"]
MemoryState = Literal["pending", "done", "skipped"]


@dataclass
class ChatTurn:
    id: str
    conversation_id: str
    seq: int
    role: Role
    text: str
    created: str
    tokens: int = 0
    model: str | None = None
    interrupted: bool = False
    finish_reason: str | None = None
    memories_used: list[str] = field(default_factory=list)
    memory_state: MemoryState = "done"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("memory_state")
        return data


@dataclass
class Conversation:
    id: str
    persona_id: str
    title: str
    summary: str
    summary_upto: int
    created: str
    updated: str
    messages: int = 0
    persona: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _turn(row: sqlite3.Row) -> ChatTurn:
    data = dict(row)
    data["interrupted"] = bool(data["interrupted"])
    data["memories_used"] = json.loads(data["memories_used"])
    return ChatTurn(**data)


_CONV_SQL = (
    "SELECT c.*, p.name AS persona, (SELECT count(*) FROM chat_messages m WHERE m.conversation_id = c.id) "
    "AS messages FROM conversations c JOIN personas p ON p.id = c.persona_id"
)


class ConversationStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def create(self, persona_id: str, title: str = "") -> Conversation:
        stamp = now()
        cid = new_id()
        with self.conn:
            self.conn.execute(
                "INSERT INTO conversations (id, persona_id, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                (cid, persona_id, title[:200], stamp, stamp),
            )
        return self.get(cid)

    def find(self, conversation_id: str) -> Conversation | None:
        row = self.conn.execute(f"{_CONV_SQL} WHERE c.id = ?", (conversation_id,)).fetchone()
        return Conversation(**dict(row)) if row is not None else None

    def get(self, conversation_id: str) -> Conversation:
        conv = self.find(check_id(conversation_id, "conversation id"))
        if conv is None:
            raise NotFound(
                f"No conversation '{conversation_id}' in this profile.", "List them with: twin conversation list"
            )
        return conv

    def list(self, persona_id: str | None = None, limit: int = 100) -> builtins.list[Conversation]:
        where, args = ("WHERE c.persona_id = ?", [persona_id]) if persona_id else ("", [])
        rows = self.conn.execute(f"{_CONV_SQL} {where} ORDER BY c.updated DESC LIMIT ?", [*args, limit])
        return [Conversation(**dict(r)) for r in rows]

    def turns(self, conversation_id: str, after_seq: int = 0) -> builtins.list[ChatTurn]:
        rows = self.conn.execute(
            "SELECT * FROM chat_messages WHERE conversation_id = ? AND seq > ? ORDER BY seq",
            (conversation_id, after_seq),
        )
        return [_turn(r) for r in rows]

    def turn(self, message_id: str) -> ChatTurn | None:
        row = self.conn.execute("SELECT * FROM chat_messages WHERE id = ?", (message_id,)).fetchone()
        return _turn(row) if row is not None else None

    def add(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        tokens: int = 0,
        model: str | None = None,
        interrupted: bool = False,
        finish_reason: str | None = None,
        memories_used: builtins.list[str] | None = None,
        memory_state: MemoryState = "done",
    ) -> ChatTurn:
        stamp = now()
        with self.conn:
            seq = self.conn.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM chat_messages WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
            turn = ChatTurn(
                new_id(), conversation_id, seq, role, text, stamp, tokens, model, interrupted, finish_reason,
                list(memories_used or []), memory_state,
            )  # fmt: skip
            self.conn.execute(
                "INSERT INTO chat_messages (id, conversation_id, seq, role, text, created, tokens, model, interrupted, "
                "finish_reason, memories_used, memory_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    turn.id, conversation_id, seq, role, text, stamp, tokens, model, int(interrupted), finish_reason,
                    json.dumps(turn.memories_used), memory_state,
                ),
            )  # fmt: skip
            self.conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (stamp, conversation_id))
        return turn

    def set_title(self, conversation_id: str, title: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title[:200], conversation_id))

    def set_summary(self, conversation_id: str, summary: str, upto_seq: int) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE conversations SET summary = ?, summary_upto = ? WHERE id = ?",
                (summary, upto_seq, conversation_id),
            )

    def continued_by(self, persona_id: str, user_texts: builtins.list[str], recent: int = 50) -> str | None:
        """The newest of the persona's recent conversations whose user turns are exactly `user_texts`, in
        order: how a client that resends the whole history each turn (the OpenAI API) continues one."""
        if not user_texts:
            return None
        for conv in self.list(persona_id, limit=recent):
            rows = self.conn.execute(
                "SELECT text FROM chat_messages WHERE conversation_id = ? AND role = 'user' ORDER BY seq", (conv.id,)
            ).fetchall()
            if [r[0] for r in rows] == user_texts:
                return conv.id
        return None

    def mark_interrupted(self, message_id: str, heard: str) -> ChatTurn:
        """Keep an assistant reply only as far as the user heard it, marked interrupted."""
        turn = self.turn(message_id)
        if turn is None or turn.role != "assistant":
            raise NotFound(f"No reply {message_id}.", "Pass the id of an assistant turn (twin conversation show).")
        with self.conn:
            self.conn.execute(
                "UPDATE chat_messages SET text = ?, interrupted = 1, finish_reason = 'cancelled' WHERE id = ?",
                (heard, message_id),
            )
        return self.turn(message_id) or turn

    def set_memory_state(self, message_id: str, state: MemoryState) -> None:
        with self.conn:
            self.conn.execute("UPDATE chat_messages SET memory_state = ? WHERE id = ?", (state, message_id))

    def pending(self, limit: int = 200) -> builtins.list[ChatTurn]:
        rows = self.conn.execute(
            "SELECT * FROM chat_messages WHERE memory_state = 'pending' ORDER BY created LIMIT ?", (limit,)
        )
        return [_turn(r) for r in rows]

    def delete(self, conversation_id: str) -> Conversation:
        conv = self.get(conversation_id)
        with self.conn:
            self.conn.execute("DELETE FROM conversations WHERE id = ?", (conv.id,))
        return conv

    def export(self, conversation_id: str) -> dict[str, Any]:
        conv = self.get(conversation_id)
        return {**conv.to_dict(), "turns": [t.to_dict() for t in self.turns(conv.id)]}
