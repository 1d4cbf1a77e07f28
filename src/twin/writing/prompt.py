"""The messages sent to the model for a draft.

With a trained model active: exactly the system prompt that model was trained with (for the channel
being written), then the request — the same wire format as every training sample. Without one: the
same prompt family with the owner's measured style line, a few of their own messages as exemplars and
an optional style reference."""

from __future__ import annotations

from collections.abc import Sequence

from twin.providers.llm import ChatMessage
from twin.style.prompt import DEFAULT_SYSTEM_PROMPT, exemplar_block, render_system_prompt
from twin.writing.exemplars import Exemplar


def few_shot_system(
    owner: str,
    style: str,
    exemplars: Sequence[Exemplar] = (),
    style_reference: str | None = None,
    *,
    template: str = DEFAULT_SYSTEM_PROMPT,
    max_exemplar_chars: int = 600,
) -> str:
    """The prompt family with a style line and the owner's own messages (no trained model)."""
    parts = [render_system_prompt(owner, style, template)]
    block = exemplar_block(owner, [e.text for e in exemplars], max_exemplar_chars)
    if block:
        parts.append(block)
    return with_reference("\n\n".join(parts), style_reference)


def with_reference(system: str, style_reference: str | None) -> str:
    if style_reference and style_reference.strip():
        return system + "\n\nStyle reference (write in this style):\n" + style_reference.strip()
    return system


def build_messages(system: str, request: str) -> list[ChatMessage]:
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=request.strip())]
