"""Which sender is the owner: parse --me aliases, match senders, infer the owner when not told, and
re-apply the identity to the whole store (sender_is_me and the bcc_only flag)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass

from twin.profiles import Identity

_PHONE_CHARS = re.compile(r"^[+\d][\d\s().\-/]{5,}$")
_EMAIL_FORMATS = ("mbox", "eml", "maildir", "msg", "pst")


def normalize_name(name: str) -> str:
    return " ".join(name.replace("\u200e", "").replace("\u202a", "").replace("\u202c", "").split()).casefold()


def phone_digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def identity_from_aliases(aliases: list[str]) -> Identity:
    """Sort --me values into names, addresses and phone numbers."""
    ident = Identity()
    for raw in aliases:
        alias = raw.strip()
        if not alias:
            continue
        if "@" in alias:
            ident.addresses.append(alias.lower())
        elif _PHONE_CHARS.match(alias) and len(phone_digits(alias)) >= 7:
            ident.phones.append(alias)
        else:
            ident.names.append(alias)
    return ident


def merge(a: Identity, b: Identity) -> Identity:
    def union(x: list[str], y: list[str]) -> list[str]:
        return list(dict.fromkeys(x + y))

    return Identity(
        names=union(a.names, b.names),
        addresses=union(a.addresses, b.addresses),
        phones=union(a.phones, b.phones),
        inferred=a.inferred and b.inferred,
    )


class Matcher:
    """Decides whether a (sender, address) pair is the owner."""

    def __init__(self, identity: Identity) -> None:
        self.names = {normalize_name(n) for n in identity.names}
        self.addresses = {a.lower() for a in identity.addresses}
        # Compare the last 9 digits so "+49 151 …" and "0151 …" match.
        self.phones = {phone_digits(p)[-9:] for p in identity.phones if len(phone_digits(p)) >= 7}

    def __call__(self, sender: str | None, address: str | None) -> bool:
        if address:
            if address.lower() in self.addresses:
                return True
            digits = phone_digits(address)
            if len(digits) >= 7 and digits[-9:] in self.phones:
                return True
        if sender:
            if normalize_name(sender) in self.names:
                return True
            digits = phone_digits(sender)
            if len(digits) >= 7 and _PHONE_CHARS.match(sender.strip()) and digits[-9:] in self.phones:
                return True
        return False

    def is_bcc_only(self, fmt: str, sender_is_me: int, extra_json: str) -> int:
        """The owner received the mail without being in To/Cc, and there is evidence it reached them."""
        if fmt not in _EMAIL_FORMATS or sender_is_me or not self.addresses:
            return 0
        extra = json.loads(extra_json or "{}")
        visible = {a.lower() for a in extra.get("to", []) + extra.get("cc", [])}
        if visible & self.addresses:
            return 0
        evidence = {a.lower() for a in extra.get("bcc", []) + extra.get("delivered_to", [])}
        return int(bool(evidence & self.addresses))


def apply_identity(conn: sqlite3.Connection, identity: Identity) -> int:
    """Recompute sender_is_me and the bcc_only flag for every message; return the owner's message count."""
    matcher = Matcher(identity)
    conn.create_function("twin_is_me", 2, lambda s, a: int(matcher(s, a)), deterministic=True)
    conn.create_function("twin_bcc_only", 3, matcher.is_bcc_only, deterministic=True)
    conn.create_function("twin_set_flag", 3, _set_flag, deterministic=True)
    with conn:
        conn.execute("UPDATE messages SET sender_is_me = twin_is_me(sender, sender_address)")
        conn.execute(
            "UPDATE messages SET flags = twin_set_flag(flags, 'bcc_only', twin_bcc_only(format, sender_is_me, extra)) "
            f"WHERE format IN ({','.join('?' * len(_EMAIL_FORMATS))})",
            _EMAIL_FORMATS,
        )
    return conn.execute("SELECT count(*) FROM messages WHERE sender_is_me = 1").fetchone()[0]


def _set_flag(flags_json: str, flag: str, on: int) -> str:
    flags = [f for f in json.loads(flags_json or "[]") if f != flag]
    if on:
        flags.append(flag)
    return json.dumps(sorted(flags))


@dataclass
class Inference:
    identity: Identity
    basis: str  # how it was inferred, shown to the user


def infer_identity(conn: sqlite3.Connection) -> Inference | None:
    """Guess the owner: the sender of Sent mail, else the person present in most chats."""
    return _from_sent_mail(conn) or _from_chats(conn)


def _from_sent_mail(conn: sqlite3.Connection) -> Inference | None:
    rows = conn.execute(
        "SELECT sender, sender_address FROM messages WHERE sender_address IS NOT NULL "
        "AND json_extract(extra, '$.sent_folder') = 1"
    ).fetchall()
    if not rows:
        return None
    counts = Counter(r["sender_address"] for r in rows)
    address, n = counts.most_common(1)[0]
    names = sorted(
        {r["sender"] for r in rows if r["sender_address"] == address and r["sender"] and r["sender"] != address}
    )
    ident = Identity(names=names, addresses=[address], inferred=True)
    return Inference(ident, f"sender of {n} message(s) in Sent mail")


def _from_chats(conn: sqlite3.Connection) -> Inference | None:
    rows = conn.execute(
        "SELECT conversation_id, sender, count(*) AS n FROM messages WHERE format = 'whatsapp' AND kind != 'system' "
        "AND sender IS NOT NULL GROUP BY conversation_id, sender"
    ).fetchall()
    if not rows:
        return None
    chats: dict[str, int] = defaultdict(int)
    volume: Counter[str] = Counter()
    for r in rows:
        title = normalize_name(r["conversation_id"].split(":", 1)[-1])
        if normalize_name(r["sender"]) == title:
            continue  # the chat is named after the other person
        chats[r["sender"]] += 1
        volume[r["sender"]] += r["n"]
    if not chats:
        return None
    best = max(chats, key=lambda s: (chats[s], volume[s]))
    ident = identity_from_aliases([best])
    ident.inferred = True
    n_chats = len({r["conversation_id"] for r in rows})
    return Inference(ident, f"present in {chats[best]} of {n_chats} chat(s) and not the chat's title")
