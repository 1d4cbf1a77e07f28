"""FTS5 query text from free text, shared by memory recall and the writing exemplar search: the
distinct content words, each quoted so no FTS5 query syntax a user typed reaches SQLite."""

from __future__ import annotations

import re

# Common English function words: they match almost every row and only dilute BM25.
STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "your",
        "with",
        "this",
        "that",
        "have",
        "from",
        "they",
        "will",
        "would",
        "there",
        "their",
        "what",
        "about",
        "which",
        "when",
        "make",
        "like",
        "just",
        "than",
        "then",
        "them",
        "were",
        "been",
        "into",
        "more",
        "some",
        "could",
        "also",
        "only",
        "other",
        "our",
        "out",
        "can",
        "get",
        "all",
        "any",
        "how",
        "its",
        "let",
        "who",
        "why",
        "was",
        "did",
        "does",
        "do",
        "is",
        "am",
        "me",
        "my",
        "mine",
        "it",
        "to",
        "of",
        "in",
        "on",
        "at",
        "an",
    ]
)


def fts_terms(text: str, *, min_chars: int = 2, max_terms: int = 16, stop: frozenset[str] = frozenset()) -> list[str]:
    """The distinct words of at least `min_chars` letters or digits, in order of appearance, each quoted
    as an FTS5 string, leaving out STOP_WORDS and `stop`."""
    seen: list[str] = []
    for w in re.findall(r"[^\W_]{" + str(min_chars) + ",}", text.lower()):
        if w not in STOP_WORDS and w not in stop and w not in seen:
            seen.append(w)
    return [f'"{w}"' for w in seen[:max_terms]]


def fts_query(text: str, *, min_chars: int = 2, max_terms: int = 16, stop: frozenset[str] = frozenset()) -> str:
    """An FTS5 OR-query of fts_terms(text)."""
    return " OR ".join(fts_terms(text, min_chars=min_chars, max_terms=max_terms, stop=stop))
