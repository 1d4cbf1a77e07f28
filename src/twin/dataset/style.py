"""The owner's style per channel, measured from the selected samples, and the system prompt of each
channel (chat replies and emails get their own style line, from their own messages)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twin.dataset.config import DatasetConfig
from twin.dataset.records import Sample
from twin.style.card import StyleCard, measure, style_line
from twin.style.prompt import render_system_prompt


@dataclass
class Prompts:
    """The system prompt of each channel, the style card they came from, and the main channel."""

    owner: str
    systems: dict[str, str]
    card: StyleCard
    main: str

    def for_source(self, source: str) -> str:
        return self.systems.get(source) or self.systems[self.main]


def style_card(samples: Sequence[Sample], detect: Callable[[str], str] | None = None) -> StyleCard:
    """The style card of the owner's texts in `samples`, one entry per channel (chat, email)."""
    by_channel: dict[str, list[str]] = {}
    for s in samples:
        by_channel.setdefault(s.source, []).append(s.target)
    return measure({ch: by_channel[ch] for ch in sorted(by_channel)}, detect)


def system_prompts(cfg: DatasetConfig, owner: str, card: StyleCard) -> dict[str, str]:
    """Channel → the rendered system prompt (cfg.style, when set, is used for every channel)."""
    channels = sorted(card.channels) or ["chat"]
    return {
        ch: render_system_prompt(owner, cfg.style or style_line(card.channels.get(ch)), cfg.system_prompt)
        for ch in channels
    }


def build_prompts(cfg: DatasetConfig, owner: str, samples: Sequence[Sample], detect: Callable[[str], str]) -> Prompts:
    card = style_card(samples, detect)
    systems = system_prompts(cfg, owner, card)
    main = card.main_channel() if card.main_channel() in systems else next(iter(systems))
    return Prompts(owner, systems, card, main)
