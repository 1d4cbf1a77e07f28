"""Insert hand-made messages straight into a profile's store (no ingest needed)."""

from __future__ import annotations

import hashlib
import json
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

from twin.ids import new_id
from twin.profiles import Profile
from twin.store.db import connect

BASE = datetime(2024, 3, 1, 9, 0)


def row(
    conversation_id: str,
    seq: int,
    sender: str,
    text: str,
    *,
    me: bool = False,
    ts: datetime | None = None,
    kind: str = "text",
    flags: list[str] | None = None,
    subject: str | None = None,
    locator: str | None = None,
    fmt: str | None = None,
    extra: dict[str, Any] | None = None,
    recipients: list[str] | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    email = conversation_id.startswith("email:")
    return {
        "id": new_id(),
        "conversation_id": conversation_id,
        "seq": seq,
        "sender": sender,
        "text": text,
        "sender_is_me": int(me),
        "timestamp": (ts or BASE + timedelta(minutes=seq)).isoformat(),
        "kind": kind,
        "flags": json.dumps(flags or []),
        "subject": subject,
        "locator": locator or f"L{seq}",
        "format": fmt or ("eml" if email else "whatsapp"),
        "extra": json.dumps(extra or {}),
        "recipients": json.dumps(recipients) if recipients else None,
        "sender_address": address,
        "source": "test.txt",
    }


def insert(profile: Profile, rows: list[dict[str, Any]]) -> None:
    with closing(connect(profile)) as conn, conn:
        for r in rows:
            fp = hashlib.sha256(f"{r['conversation_id']}|{r['seq']}|{r['locator']}|{r['text']}".encode()).hexdigest()
            conn.execute(
                "INSERT INTO messages (id, fingerprint, source, source_sha256, locator, format, conversation_id,"
                " seq, sender, sender_address, sender_is_me, timestamp, text, kind, flags, subject, recipients,"
                " extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    r["id"],
                    fp,
                    r["source"],
                    "0" * 64,
                    r["locator"],
                    r["format"],
                    r["conversation_id"],
                    r["seq"],
                    r["sender"],
                    r["sender_address"],
                    r["sender_is_me"],
                    r["timestamp"],
                    r["text"],
                    r["kind"],
                    r["flags"],
                    r["subject"],
                    r["recipients"],
                    r["extra"],
                ),
            )


REPLIES = [
    "Sounds good, I will bring the charts to the meeting tomorrow morning.",
    "Thanks for the reminder! I completely forgot about the dentist appointment.",
    "Can we move the call to Thursday? Wednesday is packed with interviews for me.",
    "I loved that book, the ending surprised me more than I expected honestly.",
    "Let's grab lunch near the office, the new ramen place looked great.",
    "I'm running about ten minutes late, the train stopped outside the station.",
    "Great work on the release notes, they read really clearly now.",
    "No worries at all, we can pick this up again after the holidays.",
]
QUESTIONS = [
    "Are you coming to the meeting?",
    "Did you see my message about Friday?",
    "What do you think about the plan?",
    "Can you help me with the report?",
]


def chat_corpus(n_contacts: int = 12, per_contact: int = 10) -> list[dict[str, Any]]:
    """Many 1:1 chats: the contact asks, the owner answers with a distinct sentence."""
    rows: list[dict[str, Any]] = []
    for c in range(n_contacts):
        cid = f"whatsapp:Contact {c}"
        t = BASE + timedelta(days=c * 3)
        for i in range(per_contact):
            q = f"{QUESTIONS[(c + i) % len(QUESTIONS)]} (topic {c}-{i})"
            rows.append(row(cid, 2 * i, f"Contact {c}", q, ts=t))
            reply = f"{REPLIES[(c + i) % len(REPLIES)]} About item {c * 100 + i}: number {i} of {c} works."
            rows.append(row(cid, 2 * i + 1, "Me", reply, me=True, ts=t + timedelta(minutes=1)))
            t += timedelta(hours=8)
    return rows
