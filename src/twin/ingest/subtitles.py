"""SubRip (.srt) and WebVTT (.vtt) subtitles → timed cues with optional speaker labels.

A small tolerant parser instead of pysrt or webvtt-py: pysrt is GPL-3.0 (the core stays
permissively licensed) and webvtt-py rejects a whole file on one malformed cue, while real
subtitle files have missing indices, timings without milliseconds, blank lines where they should
not be and stray text. Here every well-formed cue is kept and every broken block is reported.

Cue indices are the cue's position in the file (1-based), not the number written in it, so they are
unique and stable even when the file's own numbering is missing, duplicated or out of order."""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from twin.errors import UnsupportedFormat
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source
from twin.ingest.textstream import LongLine, bounded_lines, guess_encoding, open_text
from twin.settings import IngestLimits

__all__ = ["FORMATS", "Cue", "clean_text", "decode", "guess_encoding", "parse", "read_cues"]

FORMATS = ("srt", "vtt")
_SNIFF_BYTES = 1 << 20  # subtitle files are small: guess a legacy encoding from up to 1 MiB

_TS = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[,.:](\d{1,3}))?"
_TIMING_RE = re.compile(rf"\s*{_TS}\s*-->\s*{_TS}(?:\s.*)?")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+?)\s*>")
_TAG_RE = re.compile(r"</?[A-Za-z0-9][^<>\n]*>|<\d[\d:.]*>|\{\\[^{}]*\}")
_CAPS_SPEAKER_RE = re.compile(r"^([A-Z0-9][A-Z0-9 .'&\-]{0,30}[A-Z0-9.]):\s+(?=\S)")
_BRACKET_SPEAKER_RE = re.compile(r"^\[([A-Z][\w.'\-]*(?: [A-Z][\w.'\-]*){0,2})\]\s*(?=\S)")
_SKIP_BLOCKS = ("NOTE", "STYLE", "REGION", "WEBVTT")


@dataclass(slots=True)
class Cue:
    index: int  # position in the file, 1-based
    start_ms: int
    end_ms: int
    text: str  # tags removed, lines joined with "\n"
    speaker: str | None = None


@dataclass(slots=True)
class _Bad:
    line: int
    reason: str
    detail: str


@dataclass(slots=True)
class _Open:
    line: int
    timing: tuple[int, int] | None  # None: the timing line is malformed
    raw_timing: str
    lines: list[str] = field(default_factory=list)
    closed: bool = False  # a blank line came after the text
    chars: int = 0
    spoiled: str | None = None  # why the cue is skipped: a line or the whole cue is too long

    def add(self, line: str, cap: int) -> None:
        if self.spoiled is not None:
            return
        self.chars += len(line) + 1
        if type(line) is LongLine or self.chars > cap:
            self.spoiled = "line_too_long" if type(line) is LongLine else "message_too_large"
            self.lines.clear()
        else:
            self.lines.append(line)


def read_cues(data: bytes, fmt: str) -> list[Cue]:
    """Every well-formed cue of an .srt or .vtt file, in file order (broken blocks are left out)."""
    text = decode(data)
    return [c for c in _scan(text.split("\n"), _check_format(fmt), len(text) + 1) if isinstance(c, Cue)]


def parse(source: Source, limits: IngestLimits | None = None) -> Iterator[ParsedMessage | Skipped]:
    """One message per cue with text; Skipped for empty cues, bad timings, orphan blocks and cues
    longer than the limits. The file is streamed line by line."""
    fmt = _check_format(source.format)
    limits = limits or IngestLimits()
    name = source.name.rsplit("!", 1)[-1].replace("\\", "/")
    conversation = f"subtitles:{PurePath(name).stem}"
    with open_text(source, sniff_bytes=_SNIFF_BYTES) as stream:
        for item in _scan(bounded_lines(stream, limits.max_line_chars), fmt, limits.max_chat_message_chars):
            if isinstance(item, _Bad):
                yield Skipped(item.reason, f"L{item.line}", item.detail)
            elif not item.text:
                yield Skipped("empty_cue", f"cue {item.index}")
            else:
                yield ParsedMessage(
                    locator=f"cue {item.index}",
                    conversation_id=conversation,
                    sender=item.speaker,
                    text=item.text,
                    extra={"start_ms": item.start_ms, "end_ms": item.end_ms, "index": item.index},
                )


def decode(data: bytes) -> str:
    """Text of a subtitle file: BOM (UTF-8/16/32) first, then UTF-8, then a charset guess."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _lines(data.decode(enc, errors="replace"))
    try:
        return _lines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    return _lines(data.decode(guess_encoding(data), errors="replace"))


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UnsupportedFormat(f"Subtitle format '{fmt}' is not supported.", "Use an .srt or .vtt file.")
    return fmt


def _ms(h: str | None, m: str, s: str, frac: str | None) -> int:
    ms = int((frac + "00")[:3]) if frac else 0
    return ((int(h) if h else 0) * 3600 + int(m) * 60 + int(s)) * 1000 + ms


def _timing(line: str) -> tuple[int, int] | None:
    m = _TIMING_RE.fullmatch(line)
    if m is None:
        return None
    g = m.groups()
    return _ms(*g[:4]), _ms(*g[4:])


def _scan(lines: Iterable[str], fmt: str, cap: int) -> Iterator[Cue | _Bad]:
    """Walk the lines: a line with '-->' starts a cue; a blank line ends its text; what sits between
    a blank line and the next timing is the next cue's identifier, a skipped VTT block (NOTE, STYLE,
    REGION, the header), text that belongs to the cue before, or a cue missing its timing. A cue or
    block longer than `cap` characters, or holding a cut-off line, is reported, never kept whole."""
    cur: _Open | None = None
    block: list[tuple[int, str]] = []  # lines since the last blank line, outside a cue's text
    block_chars = 0
    skipping = False
    count = 0
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if "-->" in line and type(line) is not LongLine:
            _take_identifier(block, cur, fmt)
            bad = _orphans(block, cur, cap)
            if cur is not None:
                count += 1
                yield _finish(cur, count, cap)
            if bad:
                yield bad
            cur = _Open(n, _timing(line), stripped)
            block, block_chars, skipping = [], 0, False
        elif not stripped:
            if cur is not None:
                cur.closed = True
            if bad := _orphans(block, cur, cap):
                yield bad
            block, block_chars, skipping = [], 0, False
        elif skipping:
            continue
        elif cur is not None and not cur.closed:
            cur.add(line, cap)
        elif not block and fmt == "vtt" and stripped.startswith(_SKIP_BLOCKS):
            skipping = True
        elif type(line) is LongLine or block_chars + len(line) > cap:
            reason = "line_too_long" if type(line) is LongLine else "message_too_large"
            yield _Bad(block[0][0] if block else n, reason, f"more than {cap} characters without a cue")
            block, block_chars, skipping = [], 0, True
        else:
            block.append((n, line))
            block_chars += len(line) + 1
    bad = _orphans(block, cur, cap)
    if cur is not None:
        yield _finish(cur, count + 1, cap)
    if bad:
        yield bad


def _take_identifier(block: list[tuple[int, str]], cur: _Open | None, fmt: str) -> None:
    """Drop the next cue's identifier from the lines before its timing line."""
    if block:
        if fmt == "vtt" or block[-1][1].strip().isdigit():
            block.pop()
    elif fmt == "srt" and cur is not None and len(cur.lines) > 1 and cur.lines[-1].strip().isdigit():
        cur.lines.pop()  # "text\n2\n00:00:05,000 --> …": the blank line before the index is missing


def _orphans(block: list[tuple[int, str]], cur: _Open | None, cap: int) -> _Bad | None:
    """Lines after a blank line that no timing line claimed: text after a stray blank line inside a
    cue joins that cue; a block that starts with a number is a cue whose timing line is missing."""
    if not block:
        return None
    bad = None
    if cur is not None and cur.timing is not None and not block[0][1].strip().isdigit():
        cur.add("", cap)
        for _, line in block:
            cur.add(line, cap)
    else:
        detail = " / ".join(line.strip() for _, line in block)[:200]
        bad = _Bad(block[0][0], "missing_timing" if cur is not None else "unparseable_line", detail)
    block.clear()
    return bad


def _finish(cur: _Open, index: int, cap: int) -> Cue | _Bad:
    if cur.spoiled is not None:
        return _Bad(cur.line, cur.spoiled, f"cue longer than {cap} characters")
    if cur.timing is None:
        return _Bad(cur.line, "bad_timing", cur.raw_timing[:200])
    start, end = cur.timing
    if end < start:
        return _Bad(cur.line, "bad_timing", cur.raw_timing[:200])
    text, speaker = clean_text("\n".join(cur.lines))
    return Cue(index, start, end, text, speaker)


def clean_text(raw: str) -> tuple[str, str | None]:
    """Cue text without markup, and the speaker when the cue names one (VTT <v Name>, a leading
    "NAME:" in capitals, or "[Name]")."""
    speaker = None
    if v := _VOICE_RE.search(raw):
        speaker = v.group(1).strip()
    text = html.unescape(_TAG_RE.sub("", raw)) if ("<" in raw or "{" in raw or "&" in raw) else raw
    lines = [ln.strip() for ln in text.split("\n")]
    text = "\n".join(ln for ln in lines if ln).strip()
    if speaker is None:
        for rx in (_CAPS_SPEAKER_RE, _BRACKET_SPEAKER_RE):
            if m := rx.match(text):
                speaker, text = m.group(1).strip(), text[m.end() :]
                break
    return text, speaker
