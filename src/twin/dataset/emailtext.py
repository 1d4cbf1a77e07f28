"""Email body cleanup (quoted replies, signatures, mobile footers) and name/subject helpers.

Written here rather than taken from a library: talon/email-reply-parser are unmaintained or pull
heavy dependencies, and the dataset only needs the common quote markers below."""

from __future__ import annotations

import re
from email.utils import getaddresses

_QUOTE_HEADER = re.compile(
    r"^\s*(On\s.{0,200}\swrote:|Am\s.{0,200}\sschrieb.{0,40}:|Le\s.{0,200}\sa écrit\s?:"
    r"|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Forwarded message\s*-{2,}|_{10,}"
    r"|From:\s.+|Von:\s.+)\s*$",
    re.IGNORECASE,
)
_FOOTER = re.compile(r"^\s*(Sent from my \w+.*|Get Outlook for \w+.*|Sent from Mail for Windows.*)\s*$", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def clean_email_body(text: str) -> str:
    """The new part of an email: stops at a quote header or signature, drops '>' quoted lines."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.rstrip()
        if _QUOTE_HEADER.match(stripped) or stripped in ("--", "-- "):
            break
        if stripped.lstrip().startswith(">") or _FOOTER.match(stripped):
            continue
        out.append(stripped)
    body = "\n".join(out).strip()
    return re.sub(r"\n{3,}", "\n\n", body)


def clean_subject(subject: str | None) -> str:
    return _SUBJECT_PREFIX.sub("", subject or "").strip()


def is_reply_subject(subject: str | None) -> bool:
    return bool(re.match(r"^\s*(re|aw|sv)\s*:", subject or "", re.IGNORECASE))


def display_name(value: str) -> str:
    """'Dana Reyes <dana@x.org>' → 'Dana Reyes'; 'dana.reyes@x.org' → 'Dana'."""
    pairs = getaddresses([value])
    name, addr = pairs[0] if pairs else ("", value)
    name = name.strip().strip('"')
    if name and "@" not in name:
        return name
    local = (addr or value).split("@", 1)[0]
    first = re.split(r"[._+\-]", local)[0]
    return first.capitalize() if first.isalpha() else "them"


def join_names(names: list[str]) -> str:
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    if len(names) == 3:
        return f"{names[0]}, {names[1]} and {names[2]}"
    return f"{names[0]}, {names[1]} and {len(names) - 2} others"


def normalize_message_id(value: object) -> str:
    return str(value or "").strip().strip("<>").strip().lower()
