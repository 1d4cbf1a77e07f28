"""Which sender is the owner: parse --me aliases, match senders, infer the owner when not told, and
re-apply the identity to the whole store: sender_is_me, and the email flags that depend on who the
owner is (bcc_only, bcc, and list for group mail the owner is not named in)."""

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

    def mail_flags(self, sender_is_me: bool, extra: dict) -> set[str]:
        """Flags of one email that depend on who the owner is:
        bcc       the owner sent it to a hidden audience: Bcc recipients other than themselves, or
                  nobody visible but themselves (To: themselves, "undisclosed-recipients:;")
        list      the owner received it without being named, sent to a group address (all-staff@…)
        bcc_only  the owner received it without being named: nobody visible at all, or the
                  delivery headers name the owner"""
        visible = {a.lower() for a in extra.get("to", []) + extra.get("cc", [])}
        if sender_is_me:
            hidden = {a.lower() for a in extra.get("bcc", [])} - self.addresses
            return {"bcc"} if hidden or not (visible - self.addresses) else set()
        if not self.addresses or visible & self.addresses:
            return set()
        if any(_GROUP_ADDRESS.match(a) for a in visible):
            return {"list"}
        delivered = {a.lower() for a in extra.get("bcc", []) + extra.get("delivered_to", [])}
        return {"bcc_only"} if not visible or delivered & self.addresses else set()


# Local parts of addresses that reach a whole group: all-staff@, everyone@, staff.london@, team-eng@…
_GROUP_ADDRESS = re.compile(
    r"^(all|every(one|body)|staff|employees?|team|teams|company|office|announce(ments)?|members|hands|"
    r"allstaff|allhands|allemployees|allusers|allcompany|wholecompany)([._+-][^@]*)?@",
    re.IGNORECASE,
)
# Flags only apply_identity sets; they are recomputed on every run. "list" is also set by the parser
# (list headers, many recipients): extra.identity_flags remembers which flags came from here, so a
# parsed one survives a change of identity.
_IDENTITY_FLAGS = frozenset({"bcc_only", "bcc"})


def apply_identity(conn: sqlite3.Connection, identity: Identity) -> int:
    """Recompute sender_is_me and the identity-dependent email flags for every message; return the
    owner's message count."""
    matcher = Matcher(identity)
    conn.create_function("twin_is_me", 2, lambda s, a: int(matcher(s, a)), deterministic=True)
    with conn:
        conn.execute("UPDATE messages SET sender_is_me = twin_is_me(sender, sender_address)")
        conn.executemany("UPDATE messages SET flags = ?, extra = ? WHERE rowid = ?", _flag_updates(conn, matcher))
    return conn.execute("SELECT count(*) FROM messages WHERE sender_is_me = 1").fetchone()[0]


def _flag_updates(conn: sqlite3.Connection, matcher: Matcher) -> list[tuple[str, str, int]]:
    updates = []
    rows = conn.execute(
        "SELECT rowid, sender_is_me, flags, extra FROM messages "
        f"WHERE format IN ({','.join('?' * len(_EMAIL_FORMATS))})",
        _EMAIL_FORMATS,
    )
    for rowid, is_me, flags_json, extra_json in rows:
        flags = set(json.loads(flags_json or "[]"))
        extra = json.loads(extra_json or "{}")
        before = set(extra.get("identity_flags", []))
        parsed = flags - before - _IDENTITY_FLAGS
        derived = matcher.mail_flags(bool(is_me), extra) - parsed
        if parsed | derived == flags and derived == before:
            continue
        if derived:
            extra["identity_flags"] = sorted(derived)
        else:
            extra.pop("identity_flags", None)
        updates.append((json.dumps(sorted(parsed | derived)), json.dumps(extra, ensure_ascii=False), rowid))
    return updates


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
