"""Decoded header fields → the record: thread id, flags (list, auto_reply, bounce, forwarded), sent hint.
Shared by the MIME path (mbox, eml, maildir) and the Outlook readers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twin.ingest.email.clean import Cleaned
from twin.ingest.record import ParsedMessage

Addr = tuple[str, str]  # (display name, lowercase address)
MANY_RECIPIENTS = 10

_MSGID = re.compile(r"<([^<>\s]+)>")
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fwd?|aw|wg|sv|vs|tr|rv|antw|odp|r|rif|res|enc|ynt|πρθ|ha|отв|fw|vb|vl|automatic reply|auto[- ]?reply|"
    r"automatische antwort|réponse automatique|respuesta automática|abwesenheitsnotiz|out of office( reply)?)"
    r"(\s*\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[[^\]]{1,40}\]\s*)+",
    re.IGNORECASE,
)
_FWD_SUBJECT = re.compile(r"^\s*(\[[^\]]{1,40}\]\s*)?(fwd?|wg|tr|rv|vs|enc|doorst|vb|vl)\s*:", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of (the )?office|abwesenheitsnotiz|"
    r"automatische antwort|réponse automatique|respuesta automática|risposta automatica|automatisch antwoord|"
    r"afwezigheidsbericht|autosvar|automatisk svar|fuera de la oficina|absence du bureau|vacation reply|"
    r"on vacation|i am out of|i'm out of|resposta automática|automaattinen vastaus|odpowiedź automatyczna)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(able|ed)|delivery status notification \((failure|delay)\)|mail delivery failed|"
    r"returned mail|delivery failure|failure notice|unzustellbar|non remis|no se puede entregar)",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mail\.delivery\.system)@|^mailer-daemon$", re.IGNORECASE
)
_SENT_FOLDERS = {
    "sent",
    "sent items",
    "sent messages",
    "sent mail",
    "sent-mail",
    "sentmail",
    "sent email",
    "outbox",
    "gesendet",
    "gesendete objekte",
    "gesendete elemente",
    "gesendete nachrichten",
    "enviados",
    "elementos enviados",
    "mensajes enviados",
    "correo enviado",
    "envoyés",
    "envoyes",
    "éléments envoyés",
    "messages envoyés",
    "inviata",
    "posta inviata",
    "inviati",
    "elementi inviati",
    "verzonden",
    "verzonden items",
    "skickat",
    "skickade objekt",
    "skickade meddelanden",
    "sendt",
    "sendte elementer",
    "sendte meldinger",
    "lähetetyt",
    "wysłane",
    "elementy wysłane",
    "odeslané",
    "odeslaná pošta",
    "отправленные",
    "送信済み",
    "送信済みアイテム",
    "已发送",
    "已傳送",
    "itens enviados",
    "enviadas",
    "mensagens enviadas",
    "gönderilmiş öğeler",
    "gönderilenler",
}


@dataclass(slots=True)
class Envelope:
    sender_name: str
    sender_address: str
    to: list[Addr]
    cc: list[Addr]
    bcc: list[Addr]
    delivered_to: list[Addr]
    subject: str | None
    date: datetime | None
    message_id: str | None
    in_reply_to: str | None
    references: str | None
    headers: dict[str, str] = field(default_factory=dict)  # lowercase name → decoded value (flag headers)
    content_type: str = "text/plain"
    report_type: str = ""
    has_rfc822: bool = False
    has_dsn: bool = False
    cleaned: Cleaned | None = None


def msg_ids(value: str | None) -> list[str]:
    """Message-IDs in a header value, each as '<id>'; a bare token without brackets counts too."""
    if not value:
        return []
    found = _MSGID.findall(value)
    if found:
        return [f"<{m}>" for m in found]
    token = value.strip().split()[0] if value.strip() else ""
    return [f"<{token.strip('<>')}>"] if token.strip("<>") else []


def normalize_subject(subject: str | None) -> str:
    """Subject without reply/forward prefixes (Re:, Fwd:, AW:, WG:, SV:, [list]…), lowercase."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject or "").split()).lower()


def is_sent_folder(folder: str | None) -> bool:
    if not folder:
        return False
    name = re.split(r"[/\\.]", folder.strip().strip("/"))
    leaf = folder.strip().lower()
    if leaf.endswith(".mbox"):
        leaf = leaf[: -len(".mbox")]
    candidates = {leaf, leaf.split("/")[-1].strip("[]"), (name[-1] if name else "").lower().strip("[]")}
    candidates |= {c.lstrip(".") for c in candidates}
    return any(c in _SENT_FOLDERS for c in candidates)


def labels(env: Envelope) -> list[str]:
    raw = env.headers.get("x-gmail-labels", "")
    return [lbl.strip().strip('"') for lbl in raw.split(",") if lbl.strip()]


def flags_for(env: Envelope) -> list[str]:
    h = env.headers
    subject = env.subject or ""
    out: list[str] = []
    precedence = h.get("precedence", "").strip().lower()
    listy = "list-id" in h or "list-unsubscribe" in h or "list-post" in h
    if listy or precedence in ("bulk", "list", "junk") or len(env.to) + len(env.cc) > MANY_RECIPIENTS:
        out.append("list")
    auto = h.get("auto-submitted", "").strip().lower()
    if (
        (auto and not auto.startswith("no"))
        or "x-autoreply" in h
        or "x-autorespond" in h
        or _AUTO_SUBJECT.match(subject)
    ):
        out.append("auto_reply")
    dsn = env.content_type == "multipart/report" and env.report_type.lower() == "delivery-status"
    if (
        env.has_dsn
        or dsn
        or _BOUNCE_SENDER.match(env.sender_address or env.sender_name or "")
        or _BOUNCE_SUBJECT.match(subject)
    ):
        out.append("bounce")
    forwarded = bool(env.cleaned and env.cleaned.forwarded)
    if _FWD_SUBJECT.match(subject) or forwarded or (env.has_rfc822 and "bounce" not in out):
        out.append("forwarded")
    return out


def conversation_for(env: Envelope) -> str:
    refs = msg_ids(env.references)
    if refs:
        return "email:" + refs[0]
    parent = msg_ids(env.in_reply_to)
    if parent:
        return "email:" + parent[0]
    own = msg_ids(env.message_id)
    if own:
        return "email:" + own[0]
    return "email-subject:" + normalize_subject(env.subject)


def build_record(env: Envelope, locator: str, hints: dict[str, Any]) -> ParsedMessage:
    own = msg_ids(env.message_id)
    lbls = labels(env)
    sent = any(lbl.lower() == "sent" for lbl in lbls) or is_sent_folder(hints.get("folder"))
    to = [a for _, a in env.to]
    cc = [a for _, a in env.cc]
    return ParsedMessage(
        locator=locator,
        conversation_id=conversation_for(env),
        sender=(env.sender_name or env.sender_address or None),
        sender_address=env.sender_address or None,
        text=env.cleaned.text if env.cleaned else "",
        kind="text",
        timestamp=env.date,
        flags=flags_for(env),
        subject=env.subject,
        recipients=list(dict.fromkeys(to + cc)),
        message_id=own[0] if own else None,
        sent_hint=sent,
        extra={
            "to": to,
            "cc": cc,
            "bcc": [a for _, a in env.bcc],
            "delivered_to": list(dict.fromkeys(a for _, a in env.delivered_to)),
            "labels": lbls,
            "in_reply_to": next(iter(msg_ids(env.in_reply_to)), None),
            "references": msg_ids(env.references),
            "list_id": env.headers.get("list-id") or None,
        },
    )
