"""WhatsApp chat exports (.txt, or `_chat.txt` inside the exported .zip) → ParsedMessage records.

Written here rather than wrapping whatstk or chat-miner: both load the whole file into memory
(pandas / a reversed list), parse every timestamp with dateutil or strptime, and know only a few
layouts; this parser streams, handles every layout below with one precompiled regex per file and
is several times faster (see bench/ingest.py).

Layouts: Android "dd/mm/yy, hh:mm - Name: text" and iOS "[dd/mm/yy, hh:mm:ss] Name: text", with
or without a comma, 12h (AM/PM, "a. m.", 午後, …) or 24h, ":" or "." in times, "/", "." or "-" in
dates, 2- or 4-digit years (Buddhist "2565 BE" and Japanese "R4" era years too), time-first iOS
(Vietnamese), and directional marks (U+200E/U+200F/…) or U+202F/U+00A0 anywhere. The date order
(d/m/y, m/d/y, y/m/d) is inferred from all header lines of the file in a first streaming pass."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from twin.errors import ParseError
from twin.ingest import whatsapp_locale as loc
from twin.ingest.record import Kind, ParsedMessage, Skipped
from twin.ingest.source import Source
from twin.ingest.textstream import LongLine, bounded_lines, open_text
from twin.settings import IngestLimits

_AMPM = r"[AaPp]\.?\s?[Mm]\.?|[ap]\.\s?m\.|午前|午後|오전|오후|上午|下午|ص|م|π\.?μ\.?|μ\.?μ\.?"


def _layouts(i: str) -> dict[str, re.Pattern[str]]:
    """The header regexes; `i` is what may stand between tokens (directional marks, or nothing)."""
    date = (
        rf"{i}(?P<d>(?P<a>\d{{1,4}}){i}[./\-]\s?{i}(?P<b>\d{{1,2}}){i}[./\-]\s?{i}"
        rf"(?P<c>\d{{2,4}}|[RHS]\d{{1,2}})(?:\s?BE)?\.?){i}"
    )
    time = (
        rf"{i}(?:(?P<p1>{_AMPM})\s?)?(?P<H>\d{{1,2}})[:.](?P<M>\d{{2}})(?:[:.](?P<S>\d{{2}}))?"
        rf"(?:\s?{i}(?P<p2>{_AMPM}))?{i}"
    )
    sep = rf"{i}(?:[,،]\s*|\s+(?:à|um|a las|alle|às|в|om|saat|lúc)\s+|\s*){i}"
    return {
        "bracket": re.compile(rf"{i}\[(?P<ts>{date}{sep}{time})\]\s?(?P<rest>.*)"),
        "dash": re.compile(rf"{i}(?P<ts>{date}{sep}{time})\s?[-–]\s(?P<rest>.*)"),
        "bracket_time_first": re.compile(rf"{i}\[(?P<ts>{time}{sep}{date})\]\s?(?P<rest>.*)"),
        "dash_time_first": re.compile(rf"{i}(?P<ts>{time}{sep}{date})\s?[-–]\s(?P<rest>.*)"),
    }


_LAYOUTS = _layouts(f"[{loc.INVISIBLE}]*")
_PM = ("p", "P", "午後", "오후", "下午", "م", "μ")
_ERAS = {"R": 2018, "H": 1988, "S": 1925}  # Japanese Reiwa, Heisei, Showa: year n = base + n
_PHONE_RE = re.compile(r"\+?[\d\s\-().\u00a0\u202f]{6,}")
_TS_CACHE_MAX = 8192
_DETECT_LINES = 2000
_DETECT_HITS = 50


def sniff(head: str) -> bool:
    """Does this decoded start of a file (about 4 KB) look like a WhatsApp export?"""
    lines = [ln for ln in head.replace("\r", "\n").split("\n") if ln.strip()][:20]
    if not lines:
        return False
    first = next((i for i, ln in enumerate(lines) if _match_any(ln)), None)
    if first is None or first > 4:
        return False
    hits = sum(1 for ln in lines if _match_any(ln))
    return hits >= 2 or len(lines) <= 2


def chat_title(source: Source) -> str:
    """The chat's title from the export's file name ("WhatsApp Chat with Priya.txt" → "Priya")."""
    name = source.container or source.name
    stem = PurePath(name.replace("\\", "/")).name
    for ext in (".txt", ".zip"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    stem = " ".join(loc.INVISIBLE_RE.sub("", stem).split())
    for rx in loc.TITLE_RES:
        m = rx.match(stem)
        if m and m.group("t").strip():
            return m.group("t").strip()
    return stem or "chat"


def parse(source: Source, limits: IngestLimits | None = None) -> Iterator[ParsedMessage | Skipped]:
    """Stream the messages of one export. Reads the source twice: once to pick the header layout
    and date order from every line, once to parse. Raises ParseError when no line is a header.
    Lines and messages beyond the limits are skipped with a reason; memory stays flat."""
    limits = limits or IngestLimits()
    plan = _plan(source, limits.max_line_chars)
    conversation = f"whatsapp:{chat_title(source)}"
    with open_text(source) as stream:
        yield from _Reader(plan, conversation, limits).run(bounded_lines(stream, limits.max_line_chars))


# ---------------------------------------------------------------- planning (first pass)


@dataclass(slots=True)
class _Plan:
    regex: re.Pattern[str]
    order: str  # "dmy", "mdy" or "ymd"


def _match_any(line: str) -> re.Match[str] | None:
    for rx in _LAYOUTS.values():
        m = rx.match(line)
        if m:
            return m
    return None


def _plan(source: Source, max_line_chars: int) -> _Plan:
    """First pass: the layout that matches most of the first lines, and the date order voted by
    every header line of the whole file (counters only, so memory stays flat)."""
    counts = dict.fromkeys(_LAYOUTS, 0)
    evidence = {name: _DateEvidence() for name in _LAYOUTS}
    chosen: str | None = None
    with open_text(source) as stream:
        for n, line in enumerate(bounded_lines(stream, max_line_chars)):
            if chosen is None:
                for name, rx in _LAYOUTS.items():
                    m = rx.match(line)
                    if m:
                        counts[name] += 1
                        evidence[name].add(m)
                        break
                best = max(counts, key=counts.__getitem__)
                if counts[best] >= _DETECT_HITS or (n >= _DETECT_LINES and counts[best]):
                    chosen = best
                    match, ev, prefix = _LAYOUTS[best].match, evidence[best], "\0"
                continue
            if line.startswith(prefix):
                continue  # same date as the header before: no new evidence
            m = match(line)
            if m:
                ev.add(m)
                prefix = line[: m.end("d")]
    if chosen is None:
        chosen = max(counts, key=counts.__getitem__)
        if not counts[chosen]:
            raise ParseError(
                f"'{source.name}' has no WhatsApp message line (like '12/31/21, 10:00 - Name: text').",
                "Export the chat again from WhatsApp (Chat → More → Export chat) and import that file.",
            )
    return _Plan(_LAYOUTS[chosen], evidence[chosen].order())


class _DateEvidence:
    """Votes for the date order from every header: a first field > 12 means d/m, a second > 12
    means m/d, a 4-digit first field means y/m/d; with no such field, the order with fewer steps
    back in time wins, then d/m/y (the most common outside the US). Consecutive headers with the
    same date text count once."""

    __slots__ = ("first_big", "second_big", "year_first", "total", "back_dmy", "back_mdy", "prev", "last")

    def __init__(self) -> None:
        self.first_big = self.second_big = self.year_first = self.total = 0
        self.back_dmy = self.back_mdy = 0
        self.prev: tuple[int, int, int] = (0, 0, 0)
        self.last = ""

    def add(self, m: re.Match[str]) -> None:
        a, b, c, d = m.group("a", "b", "c", "d")
        if d == self.last:
            return
        self.last = d
        self.total += 1
        if len(a) > 2:
            self.year_first += 1
            return
        if len(a) == 2 and a > "12":
            self.first_big += 1
        if len(b) == 2 and b > "12":
            self.second_big += 1
        if self.first_big or self.second_big:
            return  # decided by a field > 12; steps back in time are only a tie-breaker
        cur = (_year(c), int(a), int(b))
        prev = self.prev
        if cur[0] == prev[0]:
            if (cur[2], cur[1]) < (prev[2], prev[1]):
                self.back_dmy += 1
            if (cur[1], cur[2]) < (prev[1], prev[2]):
                self.back_mdy += 1
        self.prev = cur

    def order(self) -> str:
        if self.year_first * 2 > self.total:
            return "ymd"
        if self.first_big != self.second_big:
            return "dmy" if self.first_big > self.second_big else "mdy"
        return "mdy" if self.back_mdy < self.back_dmy else "dmy"


def _year(c: str) -> int:
    if c[0] in _ERAS:
        return _ERAS[c[0]] + int(c[1:])
    y = int(c)
    if y < 100:
        return 2000 + y
    if y > 2400:  # Buddhist era
        return y - 543
    return y


# ---------------------------------------------------------------- parsing (second pass)


def _date(m: re.Match[str], order: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a header, or None when it is not a real date ("30/02/21", "2021/1/R4")."""
    a, b, c = m.group("a", "b", "c")
    try:
        if order == "ymd":
            ymd = (int(a), int(b), int(c))
        else:
            ymd = (_year(c), int(a), int(b)) if order == "mdy" else (_year(c), int(b), int(a))
        datetime(*ymd)
    except ValueError:
        return None
    return ymd


_Pending = tuple[int, datetime | None, str]  # a message's header: line number, timestamp, text after it


class _Reader:
    """Second pass: header lines start messages, other lines continue them. A message holding a
    cut-off line (LongLine) or longer than the limit is skipped whole with its reason, and its
    remaining lines are dropped, so memory stays within the limits."""

    def __init__(self, plan: _Plan, conversation: str, limits: IngestLimits) -> None:
        self.plan = plan
        self.conversation = conversation
        self.max_chars = limits.max_chat_message_chars
        self.dates: dict[str, tuple[int, int, int] | None] = {}
        self.senders: dict[str, tuple[str, str | None]] = {}

    def run(self, lines: Iterable[str]) -> Iterator[ParsedMessage | Skipped]:
        match, max_chars = self.plan.regex.match, self.max_chars
        pending: _Pending | None = None
        more: list[str] = []  # its continuation lines
        chars = 0  # its length so far
        dropping = False  # inside a skipped message: its continuation lines go with it
        for lineno, line in enumerate(lines, 1):
            m = match(line)
            if m is None:
                if pending is not None:
                    chars += len(line) + 1
                    if type(line) is LongLine or chars > max_chars:
                        yield self._skip(pending[0], type(line) is LongLine)
                        pending, more, dropping = None, [], True
                    else:
                        more.append(line)
                elif dropping:
                    continue
                elif type(line) is LongLine:
                    yield self._skip(lineno, True)
                elif line.strip(loc.INVISIBLE + " \t\r"):
                    yield Skipped("unparseable_line", f"L{lineno}", line.strip()[:120])
                continue
            if pending is not None:
                yield _build(pending, more, self.conversation, self.senders)
                if more:
                    more = []
            rest = m.group("rest")
            if type(line) is LongLine or len(rest) > max_chars:
                yield self._skip(lineno, type(line) is LongLine)
                pending, dropping = None, True
                continue
            pending, chars, dropping = (lineno, self._timestamp(m), rest), len(rest), False
        if pending is not None:
            yield _build(pending, more, self.conversation, self.senders)

    def _skip(self, lineno: int, long_line: bool) -> Skipped:
        if long_line:
            return Skipped("line_too_long", f"L{lineno}", "a line of the message is longer than the line limit")
        return Skipped("message_too_large", f"L{lineno}", f"the message is longer than {self.max_chars} characters")

    def _timestamp(self, m: re.Match[str]) -> datetime | None:
        d, hh, mm, ss, p1, p2 = m.group("d", "H", "M", "S", "p1", "p2")
        if d in self.dates:
            ymd = self.dates[d]
        else:
            if len(self.dates) >= _TS_CACHE_MAX:
                self.dates.clear()
            ymd = self.dates[d] = _date(m, self.plan.order)
        if ymd is None:
            return None
        hour = int(hh)
        if p1 or p2:
            hour = _hour12(hour, p1 or p2)
        try:
            return datetime(ymd[0], ymd[1], ymd[2], hour, int(mm), int(ss) if ss else 0)
        except ValueError:
            return None


def _hour12(hour: int, p: str) -> int:
    if p.startswith(_PM):
        return hour + 12 if hour < 12 else hour
    return 0 if hour == 12 else hour


def _build(
    p: _Pending, more: list[str], conversation: str, senders: dict[str, tuple[str, str | None]]
) -> ParsedMessage:
    lineno, ts, rest = p
    i = rest.find(": ")
    sender: str | None = None
    text = rest
    if i > 0:
        name = rest[:i]
        if not ((len(name) > 60 or '"' in name or not name.isascii()) and _system_line(name)):
            sender, text = name, rest[i + 2 :]
    elif rest.endswith(":") and 1 < len(rest) <= 61:
        sender, text = rest[:-1], ""  # empty first line (a view-once photo leaves just "Name:")
    if more:
        text = text + "\n" + "\n".join(more)
    marked = has_mark = False
    if not text.isascii():
        marked = text.startswith(("\u200e", "\u200f"))
        has_mark = marked or "\u200e" in text or "\u200f" in text
        text = loc.INVISIBLE_RE.sub("", text)
    text = text.strip()
    msg = ParsedMessage(f"L{lineno}", conversation, None, text, "text", ts)
    if ts is None:
        msg.extra["bad_timestamp"] = True
    if sender is None:
        msg.kind = "system"
        return msg
    known = senders.get(sender)
    if known is None:
        if len(senders) > 10000:
            senders.clear()
        known = senders[sender] = _sender(sender)
    msg.sender, msg.sender_address = known
    _classify(msg, marked, has_mark)
    return msg


def _sender(raw: str) -> tuple[str, str | None]:
    """The display name without directional marks, and the normalized number when it is one."""
    name = raw if raw.isascii() else " ".join(loc.INVISIBLE_RE.sub("", raw).split())
    if name[:1] in "+0123456789" and _PHONE_RE.fullmatch(name):
        digits = "".join(ch for ch in name if ch.isdigit())
        return name, ("+" if name.startswith("+") else "") + digits
    return name, None


def _system_line(sender: str) -> bool:
    """A would-be sender with a quote or of implausible length may be a system line whose quoted
    group name contains ': '."""
    return (len(sender) > 60 or not loc.QUOTE_CHARS.isdisjoint(sender)) and bool(loc.SYSTEM_LINE_RE.search(sender))


def _classify(msg: ParsedMessage, marked: bool, has_mark: bool) -> None:
    """Sets kind (and extra) for deleted notices, media placeholders, edit markers and the system
    notices that carry a sender. Plain messages leave after a few cheap checks."""
    text = msg.text
    if text.endswith(">") and (e := loc.EDITED_RE.search(text)):
        text = msg.text = text[: e.start()]
        msg.extra["edited"] = True
    if len(text) < 90:
        kind: Kind | None = loc.KINDS.get(loc.key(text))
        if kind is not None:
            msg.kind = kind
            if kind == "system":
                msg.sender = msg.sender_address = None
            elif kind == "media":
                msg.extra["media"] = text
            return
    if text[: loc.ENCRYPTION_HEAD] in loc.ENCRYPTION_HEADS and text.startswith(loc.ENCRYPTION_STARTS):
        msg.kind, msg.sender, msg.sender_address = "system", None, None
        return
    first, _, caption = text.partition("\n") if "\n" in text else (text, "", "")
    if (first.endswith((">", ")")) or has_mark or "://" in first) and _media(msg, first, caption):
        return
    if marked and loc.SYSTEM_AFTER_MARK_RE.search(text):
        msg.kind, msg.sender, msg.sender_address = "system", None, None


def _media(msg: ParsedMessage, first: str, caption: str) -> bool:
    """Media on the first line (Android puts a caption on the lines after it)."""
    low = loc.key(first)
    hit = name = None
    if loc.KINDS.get(low) == "media":
        hit = first
    elif first.endswith(">") and (a := loc.ATTACHED_RE.search(first)):
        hit, name = a.group(0), a.group(1)
        caption = "\n".join(s for s in (first[: a.start()].strip(" •"), caption) if s)
    elif first.endswith(")") and (f := loc.FILE_ATTACHED_RE.match(first)):
        hit, name = first, f.group(1)
    elif low.endswith(loc.DOCUMENT_SUFFIXES):
        suffix = next(s for s in loc.DOCUMENT_SUFFIXES if low.endswith(s))
        hit, name = first, first[: len(first) - len(suffix)].split(" • ")[0].strip() or None
    elif "://" in first and loc.LOCATION_RE.search(first):
        hit = first
        msg.extra["location"] = first[first.index("https://") :]
    if hit is None:
        return False
    msg.kind = "media"
    msg.extra["media"] = hit
    if name:
        msg.extra["attachment"] = name
    msg.text = caption.strip() or first
    return True
