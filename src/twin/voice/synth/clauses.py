"""Incremental clause chunker: text arrives in small pieces (an LLM's deltas) and leaves as speakable
clauses as soon as each one is complete, so speech can start before the reply is written.

A clause ends at a sentence end (. ! ? … then a space or a line break), at a line break, or, when it is
long enough, at clause punctuation (, ; : — –). The first clause may be short (first audio comes fast);
later ones wait for a fuller clause so the voice does not sound choppy. Anything longer than the hard
limit is cut at a word boundary. A boundary is only decided once the character after it is seen, so
"3.5", "e.g." or "Dr. Smith" are not split. Every character of the input lands in exactly one clause.
"""

from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "approx",
        "dept",
        "fig",
        "inc",
        "ltd",
        "co",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ave",
    ]
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_CLAUSE_END = re.compile(r"[,;:—–]+(?=\s)|\s[—–-]\s")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at `dot` closes an abbreviation or an initial ("J. R. R.")."""
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lower().lstrip("\"'(“‘")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


class ClauseChunker:
    """feed(delta) -> clauses completed by it; flush() -> the rest when the text ends."""

    def __init__(
        self, first_min_chars: int = 10, min_chars: int = 40, first_max_chars: int = 90, max_chars: int = 220
    ) -> None:
        self.first_min_chars = first_min_chars
        self.min_chars = min_chars
        self.first_max_chars = first_max_chars
        self.max_chars = max_chars
        self._buf = ""
        self.emitted = 0

    def feed(self, delta: str) -> list[str]:
        self._buf += delta
        out: list[str] = []
        while True:
            cut = self._boundary()
            if cut is None:
                break
            clause, self._buf = self._buf[:cut].strip(), self._buf[cut:].lstrip()
            if clause:
                out.append(clause)
                self.emitted += 1
        return out

    def flush(self) -> list[str]:
        rest, self._buf = self._buf.strip(), ""
        if not rest:
            return []
        self.emitted += 1
        return [rest]

    def _limits(self) -> tuple[int, int]:
        return (self.first_min_chars, self.first_max_chars) if self.emitted == 0 else (self.min_chars, self.max_chars)

    def _boundary(self) -> int | None:
        """Index just past the first complete clause in the buffer, or None while it is incomplete."""
        self._buf = self._buf.lstrip()
        text = self._buf
        least, most = self._limits()
        newline = text.find("\n")
        for m in _SENTENCE_END.finditer(text):
            if newline != -1 and newline < m.start():
                break
            bare = m.group().rstrip("\"'”’)]")
            if not (bare == "." and _is_abbreviation(text, m.start())):
                return m.end()
        if newline != -1:
            return newline + 1
        for m in _CLAUSE_END.finditer(text):
            if least <= m.end() <= most:
                return m.end()
        if len(text) > most:
            space = text.rfind(" ", 0, most)
            if space > 0:
                return space
        return None
