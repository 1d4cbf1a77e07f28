"""Pairing: chat turns → (context, owner reply) samples; email threads → (message answered, owner
reply) samples, or instructions for owner emails that answer nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from twin.dataset.config import DatasetConfig
from twin.dataset.emailtext import (
    clean_email_body,
    clean_subject,
    display_name,
    is_reply_subject,
    join_names,
    normalize_message_id,
)
from twin.dataset.instructions import template_instruction
from twin.dataset.records import Msg, Sample, sample_id


@dataclass(slots=True)
class Turn:
    sender: str
    is_me: bool
    parts: list[str]
    start: datetime | None
    end: datetime | None
    ids: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def _order(msgs: list[Msg]) -> list[Msg]:
    return sorted(msgs, key=lambda m: (m.ts or datetime.min, m.seq, m.id))


def _gap(a: datetime | None, b: datetime | None) -> timedelta | None:
    return None if a is None or b is None else b - a


def chat_sessions(msgs: list[Msg], merge_gap: timedelta, session_gap: timedelta) -> list[list[Turn]]:
    """Merge consecutive same-sender messages within `merge_gap` into turns; split at long silences."""
    sessions: list[list[Turn]] = []
    turns: list[Turn] = []
    last_end: datetime | None = None
    for m in _order(msgs):
        gap = _gap(last_end, m.ts)
        if turns and gap is not None and gap > session_gap:
            sessions.append(turns)
            turns = []
        prev = turns[-1] if turns else None
        if prev and prev.sender == m.sender and prev.is_me == m.is_me and (gap is None or gap <= merge_gap):
            prev.parts.append(m.text)
            prev.ids.append(m.id)
            prev.end = m.ts or prev.end
        else:
            turns.append(Turn(m.sender, m.is_me, [m.text], m.ts, m.ts, [m.id]))
        last_end = m.ts or last_end
    if turns:
        sessions.append(turns)
    return sessions


def _context_blocks(turns: list[Turn], group: bool) -> list[tuple[str, str]]:
    """Turns → alternating (role, text) blocks; others' turns join into one user block."""
    blocks: list[tuple[str, str]] = []
    for t in turns:
        role = "assistant" if t.is_me else "user"
        text = f"{t.sender}: {t.text}" if group and not t.is_me else t.text
        if blocks and blocks[-1][0] == role:
            blocks[-1] = (role, blocks[-1][1] + "\n" + text)
        else:
            blocks.append((role, text))
    while blocks and blocks[0][0] != "user":
        blocks.pop(0)
    return blocks


def trim_context(blocks: list[tuple[str, str]], max_chars: int) -> list[tuple[str, str]]:
    """Drop the oldest user/assistant pairs until the context fits; cut the last user block's head."""
    blocks = list(blocks)
    while len(blocks) > 1 and sum(len(b[1]) for b in blocks) > max_chars:
        blocks = blocks[2:] if len(blocks) > 2 else blocks[1:]
        while blocks and blocks[0][0] != "user":
            blocks.pop(0)
    if blocks and len(blocks[-1][1]) > max_chars:
        role, text = blocks[-1]
        blocks[-1] = (role, "…" + text[-(max_chars - 1) :])
    return blocks


def chat_samples(conversation_id: str, msgs: list[Msg], cfg: DatasetConfig) -> list[Sample]:
    senders = {m.sender for m in msgs if not m.is_me}
    group = len(senders) > 1
    title = conversation_id.split(":", 1)[-1]
    out: list[Sample] = []
    merge = timedelta(minutes=cfg.merge_gap_minutes)
    session = timedelta(hours=cfg.session_gap_hours)
    for turns in chat_sessions(msgs, merge, session):
        for i, turn in enumerate(turns):
            if not turn.is_me or i == 0:
                continue
            window = turns[max(0, i - cfg.max_context_turns) : i]
            blocks = trim_context(_context_blocks(window, group), cfg.max_context_chars)
            if not blocks or blocks[-1][0] != "user":
                continue
            last_other = next(t.sender for t in reversed(window) if not t.is_me) if not group else title
            out.append(
                Sample(
                    id=sample_id(conversation_id, turn.ids),
                    source="chat",
                    kind="chat_reply",
                    conversation_id=conversation_id,
                    contact=last_other,
                    ts=turn.start,
                    context=blocks,
                    target=turn.text,
                    message_ids=turn.ids,
                    meta={"group": group},
                )
            )
    return out


def _in_reply_to(m: Msg) -> str:
    irt = m.extra.get("in_reply_to")
    if isinstance(irt, list):
        irt = irt[0] if irt else ""
    if not irt:
        refs = m.extra.get("references")
        if isinstance(refs, list) and refs:
            irt = refs[-1]
        elif isinstance(refs, str) and refs.split():
            irt = refs.split()[-1]
    return normalize_message_id(irt)


def _message_id(m: Msg) -> str:
    mid = m.extra.get("message_id") or (m.locator if "@" in m.locator else "")
    return normalize_message_id(mid)


def _recipient_names(m: Msg) -> str:
    raw: list[str] = []
    for key in ("to", "cc"):
        value = m.extra.get(key)
        if isinstance(value, str):
            raw.append(value)
        elif isinstance(value, list):
            raw.extend(str(v) for v in value)
        if raw:
            break
    if not raw:
        raw = [str(r) for r in m.recipients]
    return join_names([display_name(r) for r in raw][:6])


def email_samples(conversation_id: str, msgs: list[Msg], cfg: DatasetConfig) -> list[Sample]:
    ordered = _order(msgs)
    by_id = {mid: m for m in ordered if (mid := _message_id(m))}
    out: list[Sample] = []
    for pos, m in enumerate(ordered):
        if not m.is_me:
            continue
        target = clean_email_body(m.text)
        sid = sample_id(conversation_id, [m.id])
        parent_id = _in_reply_to(m)
        parent = by_id.get(parent_id) if parent_id else None
        is_reply = bool(parent_id) or is_reply_subject(m.subject)
        if (parent is None or parent.is_me) and is_reply:
            parent = next((p for p in reversed(ordered[:pos]) if not p.is_me), None)
        subject = clean_subject(m.subject or (parent.subject if parent else None))
        base = Sample(
            id=sid,
            source="email",
            kind="",
            conversation_id=conversation_id,
            contact="",
            ts=m.ts,
            context=[],
            target=target,
            message_ids=[m.id],
        )
        if parent is not None and (body := clean_email_body(parent.text)):
            name = display_name(parent.sender) if "@" in parent.sender else parent.sender
            header = f"From: {name}\nSubject: {subject}\n\n" if subject else f"From: {name}\n\n"
            base.kind, base.contact = "email_reply", name
            base.context = [("user", header + body)]
        elif cfg.include_new_emails:
            to = _recipient_names(m)
            base.kind, base.contact = "email_new", to or "unknown"
            instruction = template_instruction(to=to, subject=subject, reply=is_reply, seed=cfg.seed, key=sid)
            base.context = [("user", instruction)]
            base.meta = {"to": to, "subject": subject, "reply": is_reply}
        else:
            continue
        out.append(base)
    return out


def pair_all(conversations: Iterable[tuple[str, list[Msg]]], cfg: DatasetConfig) -> list[Sample]:
    samples: list[Sample] = []
    for cid, msgs in conversations:
        if not any(m.is_me for m in msgs):
            continue
        is_email = cid.startswith("email:") or any(m.is_email for m in msgs)
        samples.extend(email_samples(cid, msgs, cfg) if is_email else chat_samples(cid, msgs, cfg))
    return samples
