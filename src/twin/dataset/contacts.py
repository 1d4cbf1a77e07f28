"""One name per contact: "Anita Desai", "Anita" and anita.desai@example.org are the same person.

Names and addresses seen together on a message (the sender's display name and address, the owner's
"To:" lines) are linked; a first name alone joins the one full name that starts with it (when exactly
one does). Each group is shown under its fullest name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from email.utils import getaddresses

from twin.dataset.emailtext import display_name
from twin.dataset.records import Msg, Sample


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _pairs(m: Msg) -> Iterable[tuple[str, str]]:
    """(display name, address) pairs a message tells about people other than the owner."""
    if not m.is_me:
        sender = m.sender or ""
        name = display_name(sender) if "@" in sender else sender
        yield name.strip(), (m.sender_address or (sender if "@" in sender else "")).strip().lower()
        return
    raw: list[str] = []
    for key in ("to", "cc"):
        value = m.extra.get(key)
        raw += [value] if isinstance(value, str) else [str(v) for v in value or []]
    for name, addr in getaddresses(raw):
        if addr and "@" in addr:
            yield (name.strip().strip('"') or display_name(addr)), addr.strip().lower()


def contact_names(messages: Iterable[Msg]) -> dict[str, str]:
    """Every name variant seen → the canonical name of its contact."""
    groups = _Groups()
    seen: Counter[str] = Counter()
    for m in messages:
        for name, addr in _pairs(m):
            if not name or name == "them":
                continue
            seen[name] += 1
            groups.find("n:" + name.casefold())
            if addr:
                groups.union("n:" + name.casefold(), "a:" + addr)
    names = {n.casefold(): n for n in sorted(seen, key=lambda n: (-seen[n], n))}
    full_by_first: dict[str, set[str]] = {}
    for key in names:
        if len(key.split()) > 1:
            full_by_first.setdefault(key.split()[0], set()).add(groups.find("n:" + key))
    for key in names:
        if len(key.split()) == 1 and len(full_by_first.get(key, ())) == 1:
            groups.union("n:" + key, next(iter(full_by_first[key])))
    members: dict[str, list[str]] = {}
    for key, name in names.items():
        members.setdefault(groups.find("n:" + key), []).append(name)
    out: dict[str, str] = {}
    for variants in members.values():
        best = max(variants, key=lambda n: (len(n.split()), seen[n], n))
        out.update({v: best for v in variants})
    return out


def merge_contacts(samples: Sequence[Sample], messages: Iterable[Msg]) -> int:
    """Rename each sample's contact to its canonical name; returns how many samples changed."""
    names = contact_names(messages)
    changed = 0
    for s in samples:
        canonical = names.get(s.contact)
        if canonical and canonical != s.contact:
            s.contact = canonical
            changed += 1
    return changed
