"""Split long text into speakable pieces and join the audio back without clicks or lost words.

Sentences first; a sentence longer than `max_chars` is cut at clause punctuation, then at word
boundaries. Every word of the input lands in exactly one chunk (``" ".join(chunks)`` re-creates the
normalized text), so nothing at the end is ever dropped.
"""

from __future__ import annotations

import re

import numpy as np

_SENTENCE = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_CLAUSE = re.compile(r"(?<=[,;:—–])\s+")


def _split_long(piece: str, max_chars: int) -> list[str]:
    if len(piece) <= max_chars:
        return [piece]
    out: list[str] = []
    current = ""
    for clause in _CLAUSE.split(piece):
        for word in clause.split(" ") if len(clause) > max_chars else [clause]:
            candidate = f"{current} {word}".strip()
            if current and len(candidate) > max_chars:
                out.append(current)
                current = word
            else:
                current = candidate
    if current:
        out.append(current)
    return out


def split_text(text: str, max_chars: int = 220, first_max_chars: int = 80) -> list[str]:
    """Chunks of at most `max_chars` (the first one at most `first_max_chars`, so first audio comes fast)."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    chunks: list[str] = []
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        limit = first_max_chars if not chunks else max_chars
        pieces = _split_long(sentence, limit)
        if not chunks and len(pieces) > 1:  # keep only the first piece short
            pieces = pieces[:1] + _split_long(" ".join(pieces[1:]), max_chars)
        chunks.extend(pieces)
    return chunks


def crossfade_concat(
    pieces: list[np.ndarray], sample_rate: int, fade_ms: float = 12.0, gap_ms: float = 0.0
) -> np.ndarray:
    """Join float32 pieces with a short equal-power crossfade (and an optional pause between them)."""
    pieces = [np.asarray(p, dtype=np.float32) for p in pieces if len(p)]
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    fade = int(sample_rate * fade_ms / 1000)
    gap = np.zeros(int(sample_rate * gap_ms / 1000), dtype=np.float32)
    out = pieces[0]
    for piece in pieces[1:]:
        if len(gap):
            out = np.concatenate([out, gap])
        n = min(fade, len(out), len(piece)) if not len(gap) else 0
        if n:
            t = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)
            mixed = out[-n:] * np.cos(t) + piece[:n] * np.sin(t)
            out = np.concatenate([out[:-n], mixed, piece[n:]])
        else:
            out = np.concatenate([out, piece])
    return out


class Joiner:
    """Streaming form of crossfade_concat: holds back each piece's last `fade_ms` to blend with the next.

    `continues=True` marks audio that follows the previous push without a break (the next chunk of the
    same engine stream): it is appended as is, only the start of a new piece is crossfaded."""

    def __init__(self, sample_rate: int, fade_ms: float = 12.0) -> None:
        self.fade = int(sample_rate * fade_ms / 1000)
        self._tail = np.zeros(0, dtype=np.float32)

    def push(self, piece: np.ndarray, continues: bool = False) -> np.ndarray:
        piece = np.asarray(piece, dtype=np.float32)
        if not len(piece):
            return np.zeros(0, dtype=np.float32)
        if continues:
            piece = np.concatenate([self._tail, piece])
            self._tail = np.zeros(0, dtype=np.float32)
        n = min(self.fade, len(self._tail), len(piece))
        if n:
            t = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)
            head = np.concatenate([self._tail[:-n], self._tail[-n:] * np.cos(t) + piece[:n] * np.sin(t)])
            piece = piece[n:]
        else:
            head = self._tail
        keep = min(self.fade, len(piece))
        self._tail = piece[len(piece) - keep :]
        return np.concatenate([head, piece[: len(piece) - keep]])

    def flush(self) -> np.ndarray:
        tail, self._tail = self._tail, np.zeros(0, dtype=np.float32)
        return tail
