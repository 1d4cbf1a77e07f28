"""Per-variant measures of how much drafts sound like the owner."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from twin.style.card import ChannelStyle, StyleCard, card_distance, measure_channel
from twin.writing.cleanup import strip_preamble

_REFUSAL = re.compile(
    r"\b(?:as an ai|language model|i can(?:no|')t (?:help|assist|write|do that)|i(?:'m| am) (?:sorry, but|unable|not "
    r"able to)|i don't have (?:personal|access))",
    re.IGNORECASE,
)


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class Generated:
    prompt_id: str
    channel: str
    reference: str
    raw: str
    draft: str
    tokens_per_s: float
    owner_probability: float = 0.0
    similarity: float | None = None


def wrapped(raw: str) -> bool:
    """A preamble line ("Sure! Here's a draft:", the cleaner's own rule, so an owner who starts with "sure
    thing, …" is not counted) or a refusal instead of the draft."""
    text = raw.strip()
    return strip_preamble(text) != text or bool(_REFUSAL.search(text))


def similarities(embedder: Embedder | None, drafts: Sequence[str], references: Sequence[str]) -> list[float] | None:
    """Cosine similarity of each draft to the owner's real reply (vectors are L2-normalized)."""
    if embedder is None or not drafts:
        return None
    a, b = embedder.embed(list(drafts)), embedder.embed(list(references))
    return [round(float(x), 4) for x in np.sum(a * b, axis=1)]


def style_distance(card: StyleCard, items: Sequence[Generated]) -> float | None:
    """Style-card distance of the drafts to the owner's card, per channel, weighted by draft count."""
    total, weight = 0.0, 0
    for channel in sorted({g.channel for g in items}):
        owner: ChannelStyle | None = card.channel(channel)
        drafts = [g.draft for g in items if g.channel == channel and g.draft.strip()]
        if owner is None or not drafts:
            continue
        total += card_distance(owner, measure_channel(channel, drafts))["total"] * len(drafts)
        weight += len(drafts)
    return round(total / weight, 3) if weight else None


def summarize(items: Sequence[Generated], card: StyleCard) -> dict[str, Any]:
    n = len(items)
    sims = [g.similarity for g in items if g.similarity is not None]
    return {
        "drafts": n,
        "attributed_to_owner": round(sum(g.owner_probability > 0.5 for g in items) / n, 4) if n else 0.0,
        "mean_owner_probability": round(statistics.fmean(g.owner_probability for g in items), 4) if n else 0.0,
        "similarity_to_reply": round(statistics.fmean(sims), 4) if sims else None,
        "style_distance": style_distance(card, items),
        "preamble_or_refusal": round(sum(wrapped(g.raw) for g in items) / n, 4) if n else 0.0,
        "mean_chars": round(statistics.fmean(len(g.draft) for g in items), 1) if n else 0.0,
        "tokens_per_s": round(statistics.fmean(g.tokens_per_s for g in items), 1) if n else 0.0,
    }
