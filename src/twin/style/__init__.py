"""The owner's style: the measured style card and the one system prompt family that training, export,
drafting and persona chat share. Pure functions, no stage imports, so every stage can use them."""

from twin.style.card import ChannelStyle, StyleCard, card_distance, default_max_tokens, measure, style_line
from twin.style.prompt import DEFAULT_SYSTEM_PROMPT, DRAFT_STOPS, exemplar_block, render_system_prompt

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "DRAFT_STOPS",
    "ChannelStyle",
    "StyleCard",
    "card_distance",
    "default_max_tokens",
    "exemplar_block",
    "measure",
    "render_system_prompt",
    "style_line",
]
