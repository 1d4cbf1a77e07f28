"""Filters: each is a small pure function that returns KEEP or a drop with a stable reason, which the
report counts. Message filters run before pairing; sample filters run on the paired text."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    keep: bool
    reason: str = ""


KEEP = Verdict(True)


def drop(reason: str) -> Verdict:
    return Verdict(False, reason)


URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_PUNCT_WS = re.compile(r"[\s\W_]+", re.UNICODE)


def check_kind(kind: str, excluded: list[str]) -> Verdict:
    return drop(f"kind_{kind}") if kind in excluded else KEEP


def check_flags(flags: list[str], excluded: list[str]) -> Verdict:
    for flag in flags:
        if flag in excluded:
            return drop(f"flag_{flag}")
    return KEEP


def check_empty(text: str) -> Verdict:
    return KEEP if text.strip() else drop("empty")


def check_min_chars(text: str, minimum: int) -> Verdict:
    return KEEP if len(text.strip()) >= minimum else drop("too_short")


def check_link_only(text: str) -> Verdict:
    if not URL_RE.search(text):
        return KEEP
    rest = _PUNCT_WS.sub("", URL_RE.sub("", text))
    return drop("link_only") if not rest else KEEP


def _is_emoji_char(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn")
        or 0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0xFE00 <= cp <= 0xFE0F
    )


def check_emoji_only(text: str) -> Verdict:
    chars = [c for c in text if not c.isspace() and unicodedata.category(c)[0] != "P"]
    if chars and all(_is_emoji_char(c) for c in chars):
        return drop("emoji_only")
    return KEEP


def check_language(lang: str, allowed: list[str], keep_undetected: bool) -> Verdict:
    if not allowed:
        return KEEP
    if lang == "und":
        return KEEP if keep_undetected else drop("language_undetected")
    return KEEP if lang in allowed else drop(f"language_{lang}")


def estimate_tokens(text: str) -> int:
    """Cheap upper-leaning token estimate (no tokenizer available offline): the larger of ~4 UTF-8
    bytes per token and ~1.3 tokens per word, which tracks BPE tokenizers on English and Latin text."""
    if not text:
        return 0
    return math.ceil(max(len(text.encode("utf-8")) / 4, len(text.split()) * 1.3))


def sample_tokens(blocks: list[tuple[str, str]]) -> int:
    """Tokens of a ChatML conversation: the texts plus ~4 tokens of role markup per message."""
    return sum(estimate_tokens(text) + 4 for _role, text in blocks)


def check_token_budget(tokens: int, budget: int) -> Verdict:
    return KEEP if tokens <= budget else drop("too_long")


def check_review(sample_id: str, dropped: set[str]) -> Verdict:
    return drop("review_dropped") if sample_id in dropped else KEEP
