"""The one system prompt family: the dataset renders it into every training sample, the run and the
export record the rendered prompts, and the writing service sends the very same text when it drafts
with that adapter (or the same template with a measured style line and exemplars when it has none).

Exemplars sit between separator lines; the separator and every chat template's turn markers are stop
strings, so a model that starts a second draft or a new turn stops there."""

from __future__ import annotations

import re
from collections.abc import Sequence

from twin.chat_template import FAMILIES

DEFAULT_SYSTEM_PROMPT = (
    "You are {owner}'s writing twin. Write exactly as {owner} would: {style}. "
    "Return only the draft text, with no preface, notes or quotation marks."
)
EXEMPLAR_SEPARATOR = "---"
# A line that starts another draft: a separator rule, or a heading such as "Draft 2:" / "Alternatively:".
SEPARATOR_STOPS = ("\n---", "\n***", "\n###", "\n===", "\n___")
ROLE_STOPS = ("\nUser:", "\nAssistant:", "\nuser:", "\nassistant:")
TURN_MARKERS = tuple(sorted({m for f in FAMILIES.values() for m in (*f.stop, f.marker)}))
DRAFT_STOPS: tuple[str, ...] = (*SEPARATOR_STOPS, *ROLE_STOPS, *TURN_MARKERS)

_EMAIL_HINT = re.compile(r"\b(e-?mail|subject line|dear\b|memo|letter|newsletter|cover note)", re.IGNORECASE)
_CHAT_HINT = re.compile(r"\b(whats ?app|text(?:ing)?|chat|sms|dm|signal|telegram)\b", re.IGNORECASE)


def render_system_prompt(owner: str, style: str, template: str = DEFAULT_SYSTEM_PROMPT) -> str:
    """The template with {owner} and {style} filled in (plain replace: other braces stay as written)."""
    return template.replace("{owner}", owner).replace("{style}", style)


def exemplar_block(owner: str, texts: Sequence[str], max_chars: int = 600) -> str:
    """The owner's own messages as voice examples, each between separator lines."""
    if not texts:
        return ""
    parts = [f"Messages {owner} actually wrote (match this voice, not the content):"]
    for text in texts:
        text = text.strip()
        parts.append(EXEMPLAR_SEPARATOR + "\n" + (text if len(text) <= max_chars else text[:max_chars] + "…"))
    parts.append(EXEMPLAR_SEPARATOR)
    return "\n".join(parts)


def guess_channel(request: str, default: str = "chat") -> str:
    """'email' when the request talks about an email, 'chat' when about a chat message, else `default`."""
    if _EMAIL_HINT.search(request):
        return "email"
    if _CHAT_HINT.search(request):
        return "chat"
    return default
