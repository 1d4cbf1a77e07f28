"""The messages sent to the model for a draft: the owner's style system prompt (with exemplars of
their own writing and an optional style reference), then the request."""

from __future__ import annotations

from twin.providers.llm import ChatMessage
from twin.writing.exemplars import Exemplar

DEFAULT_STYLE = "concise, direct, dry humor, no hedging, no corporate fluff"

SYSTEM_TEMPLATE = (
    "You are {owner}'s writing assistant. Write exactly as {owner} would: {style}. "
    'Return only the draft text — no preamble like "Here\'s a draft:", no explanations, '
    "no [DRAFT] markers, no quotation marks around it."
)


def system_prompt(
    owner: str = "the owner",
    style: str = DEFAULT_STYLE,
    exemplars: list[Exemplar] | None = None,
    style_reference: str | None = None,
    max_exemplar_chars: int = 600,
) -> str:
    parts = [SYSTEM_TEMPLATE.format(owner=owner, style=style)]
    if exemplars:
        parts.append(f"Messages {owner} actually wrote (match this voice, not the content):")
        for ex in exemplars:
            text = ex.text if len(ex.text) <= max_exemplar_chars else ex.text[:max_exemplar_chars] + "…"
            parts.append("---\n" + text)
        parts.append("---")
    if style_reference and style_reference.strip():
        parts.append("Style reference (write in this style):\n" + style_reference.strip())
    return "\n\n".join(parts)


def build_messages(
    prompt: str,
    *,
    owner: str = "the owner",
    style: str = DEFAULT_STYLE,
    exemplars: list[Exemplar] | None = None,
    style_reference: str | None = None,
    max_exemplar_chars: int = 600,
) -> list[ChatMessage]:
    system = system_prompt(owner, style, exemplars, style_reference, max_exemplar_chars)
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=prompt.strip())]
