"""Recognise a chat that is already in the store, whatever its export file is called.

A chat's conversation id comes from the export's file name ("WhatsApp Chat - Priya.zip" →
whatsapp:Priya), so the same chat imported again as `_chat.txt` would become a second copy. Before
the first messages of a chat are stored, a sample of them is looked up by content (timestamp, sender,
text); when most of the sample already sits in one conversation, the new file is that conversation.
A longer re-export then adds only its new messages."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence

from twin.ingest.record import ParsedMessage

SAMPLE = 200  # messages looked up per file
MIN_SHARE = 0.5  # of the sample found in one conversation
MIN_HITS = 3  # found messages needed, unless the file is smaller than that

# The partial index messages_whatsapp_time (migration 0006) serves this lookup: the format is a literal.
_LOOKUP = (
    "SELECT DISTINCT conversation_id FROM messages "
    "WHERE format = 'whatsapp' AND timestamp = ? AND sender IS ? AND text = ?"
)


def _sample(messages: Sequence[ParsedMessage]) -> list[ParsedMessage]:
    usable = [m for m in messages if m.timestamp is not None and m.sender is not None]
    if len(usable) <= SAMPLE:
        return usable
    step = len(usable) / SAMPLE
    return [usable[int(i * step)] for i in range(SAMPLE)]


def existing_conversation(conn: sqlite3.Connection, messages: Sequence[ParsedMessage]) -> str | None:
    """The stored WhatsApp conversation that holds most of these messages (the first batch of one
    file, all of one chat), or None when no conversation holds enough of them. The file's own
    conversation wins a tie, so re-importing a file never moves it."""
    sample = _sample(messages)
    if not sample:
        return None
    own = sample[0].conversation_id
    hits: Counter[str] = Counter()
    for m in sample:
        ts = m.timestamp.isoformat() if m.timestamp is not None else None
        for (conversation,) in conn.execute(_LOOKUP, (ts, m.sender, m.text)):
            hits[conversation] += 1
    if not hits:
        return None
    best = max(hits, key=lambda c: (hits[c], c == own))
    needed = max(min(MIN_HITS, len(sample)), MIN_SHARE * len(sample))
    return best if hits[best] >= needed else None
