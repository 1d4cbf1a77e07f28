"""Memory records: stored items (facts and chunks with provenance and supersession) and the candidates
an extractor proposes before the write policy decides what happens to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["fact", "chunk"]
Scope = Literal["user", "persona"]
Status = Literal["active", "superseded"]
USER_PARTITION = "user"
OLD_SUFFIX = "#old"


def partition(scope: str, persona_id: str | None, status: str = "active") -> str:
    base = USER_PARTITION if scope == "user" else f"persona:{persona_id}"
    return base if status == "active" else base + OLD_SUFFIX


@dataclass
class MemoryItem:
    id: str
    kind: Kind
    scope: Scope
    persona_id: str | None
    conversation_id: str | None
    text: str
    subject: str | None
    fingerprint: str
    category: str | None
    status: Status
    superseded_by: str | None
    importance: float
    reason: str
    extractor: str
    source_message_ids: list[str]
    mentions: int
    created: str
    updated: str
    last_used: str | None
    persona: str | None = None
    score: float | None = None

    @property
    def partition(self) -> str:
        return partition(self.scope, self.persona_id, self.status)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "scope": self.scope,
            "persona": self.persona,
            "text": self.text,
            "status": self.status,
            "superseded_by": self.superseded_by,
            "importance": round(self.importance, 3),
            "reason": self.reason,
            "source_message_ids": self.source_message_ids,
            "created": self.created,
        }
        if self.score is not None:
            out["score"] = round(self.score, 5)
        return out

    def detail(self) -> dict[str, Any]:
        return {
            **self.to_dict(),
            "subject": self.subject,
            "category": self.category,
            "extractor": self.extractor,
            "mentions": self.mentions,
            "updated": self.updated,
            "last_used": self.last_used,
            "conversation_id": self.conversation_id,
        }


@dataclass
class Candidate:
    """A statement an extractor found in the user's own words.

    subject: what the statement is about, normalized (e.g. "user.employer", "brother ravi.home");
    single_valued subjects hold one value at a time, so a new value supersedes the old; `ends` marks a
    statement that ends a fact (e.g. "I left Globex") without necessarily giving a new value."""

    text: str
    source_message_ids: list[str]
    reason: str
    extractor: str
    subject: str | None = None
    value: str | None = None
    single_valued: bool = False
    ends: bool = False
    importance: float = 0.5
    scope: Scope = "user"
    category: str | None = None
    correction: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
