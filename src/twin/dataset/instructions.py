"""Instructions for owner emails that answer nothing: varied phrasings built from metadata (chosen
deterministically by seed), or back-translation by the configured LLM (`--instructions llm`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

_NEW = [
    'Write an email to {to} about "{subject}".',
    'Draft an email to {to} with the subject "{subject}".',
    "Compose a message to {to} regarding {subject_lc}.",
    'Can you write {to} an email about "{subject}"?',
    'Email {to} about "{subject}".',
    "Please draft a note to {to}: {subject}.",
    'I need to send {to} an email about "{subject}". Write it for me.',
]
_NEW_NO_SUBJECT = [
    "Write an email to {to}.",
    "Draft a short email to {to}.",
    "Compose a message for {to} in my usual style.",
]
_NEW_NO_TO = [
    'Write an email about "{subject}".',
    'Draft an email with the subject "{subject}".',
    "Compose an email regarding {subject_lc}.",
]
_REPLY = [
    'Draft a reply to {to} about "{subject}".',
    'Write my reply to {to} on "{subject}".',
    "Reply to {to}'s email about {subject_lc}.",
    'Answer {to}\'s message "{subject}" for me.',
]
_GENERIC = ["Write an email in my usual style.", "Draft an email for me."]

BACKTRANSLATE_PROMPT = (
    "Below is an email someone wrote. Write the short request, one or two sentences, that a person "
    "would give an assistant so that it writes exactly this email (mention the recipient and topic "
    "if they are clear). Reply with the request only.\n\nEmail:\n{text}"
)


def _pick(options: list[str], seed: int, key: str) -> str:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def template_instruction(*, to: str, subject: str, reply: bool, seed: int, key: str) -> str:
    """A drafting request built from the email's recipients and subject; same seed+key, same text."""
    if reply and to and subject:
        options = _REPLY
    elif to and subject:
        options = _NEW
    elif to:
        options = _NEW_NO_SUBJECT
    elif subject:
        options = _NEW_NO_TO
    else:
        options = _GENERIC
    lc = subject[:1].lower() + subject[1:] if subject and not subject[:2].isupper() else subject
    text = _pick(options, seed, key).format(to=to, subject=subject, subject_lc=lc)
    return re.sub(r"([?!.])\.$", r"\1", text)  # 'Dinner on Friday?.' → 'Dinner on Friday?'


GenerateFn = Callable[[str], str]


def backtranslate(text: str, generate: GenerateFn, fallback: str) -> str:
    """Ask a model for the request that would produce `text`; keep `fallback` when the answer is unusable."""
    answer = generate(BACKTRANSLATE_PROMPT.format(text=text)).strip()
    answer = re.sub(r"^(request|instruction)\s*:\s*", "", answer, flags=re.IGNORECASE).strip().strip('"')
    if len(answer) < 8 or answer == text.strip() or "Below is an email" in answer:
        return fallback
    return answer[:500]


def llm_generate_fn(profile: object, backend: str | None, seed: int) -> GenerateFn:
    """A blocking prompt→text function over the profile's configured LLM provider."""
    from twin.providers.llm import open_llm

    return generate_with(open_llm(profile, backend=backend), seed)  # type: ignore[arg-type]


def generate_with(llm: object, seed: int) -> GenerateFn:
    """Wrap an LLM provider instance (greedy, seeded) as a blocking prompt→text function."""
    from twin.providers.llm import LLMOptions

    options = LLMOptions(max_tokens=96, temperature=0.0, seed=seed)

    def generate(prompt: str) -> str:
        return llm.complete_sync(prompt, options).text  # type: ignore[attr-defined]

    return generate
