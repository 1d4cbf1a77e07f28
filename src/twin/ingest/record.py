"""What a parser yields: ParsedMessage for each message, Skipped for each line or message it could
not use (with a reason). Parsers never touch the store; the ingest service does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Kind = Literal["text", "media", "system", "deleted"]
FLAGS = ("list", "auto_reply", "bcc_only", "bcc", "bounce", "forwarded")


@dataclass(slots=True)
class ParsedMessage:
    locator: str  # line number ("L12"), mbox byte offset ("@1043") or Message-ID
    conversation_id: str  # chat ("whatsapp:Priya") or email thread root ("email:<id@host>")
    sender: str | None  # display name, or the address/number when there is no name
    text: str
    kind: Kind = "text"
    timestamp: datetime | None = None  # aware when the export has a zone, naive local time otherwise
    sender_address: str | None = None  # email address or phone number, lowercased/normalized
    flags: list[str] = field(default_factory=list)
    subject: str | None = None
    recipients: list[str] | None = None  # email: every To/Cc address (lowercase)
    message_id: str | None = None  # email Message-ID: makes the same mail in two files one record
    sent_hint: bool = False  # the export says the owner sent it (Sent folder, Gmail "Sent" label)
    extra: dict[str, Any] = field(default_factory=dict)  # format-specific: to/cc lists, cue times…


@dataclass(slots=True)
class Skipped:
    reason: str  # short stable reason, used as a key in reports ("unparseable_line")
    locator: str
    detail: str = ""
