"""Counters the dataset build fills as it goes; the report and the CLI read them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    messages: Counter[str] = field(default_factory=Counter)  # by format
    message_drops: Counter[str] = field(default_factory=Counter)
    pairs: Counter[str] = field(default_factory=Counter)  # by sample kind
    sample_drops: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)  # per detection group
    context_trimmed: int = 0
    duplicates: int = 0
    warnings: list[str] = field(default_factory=list)
