"""Do-not-store filters. Secrets (passwords, API keys and tokens, card, IBAN and account numbers, one-time
codes) are found with the dataset redactor's detectors and replaced before anything is written, in the
conversation log as in memory. Categories (health, finance) are refused per persona policy: a sentence
in a refused category becomes no fact, and is cut out of chunk text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from twin.dataset.redact import Redactor

SECRET_TYPES = ["SECRET", "PASSWORD", "CARD", "IBAN", "CODE"]
_PLACEHOLDER = re.compile(r"<(SECRET|PASSWORD|CARD|IBAN|CODE)_\d+>")
# Plain account-style numbers have no checksum the redactor could test; catch them by what precedes them.
_ACCOUNT = re.compile(
    r"(?i)\b(?:account|acct|routing|sort[- ]code|social security|ssn|passport|licen[cs]e|policy|member(?:ship)?)"
    r"(?:\s+(?:number|no\.?|num|#))?\s*(?:is|:|=|-)?\s*([A-Z]{0,3}[\d][\d -]{4,}\d)"
)
# "my password for the bank is X": the redactor's password rule takes the word after "password".
_PASSWORD_FOR = re.compile(
    r"(?i)\b(?:password|passcode|passphrase|pin|login)\s+(?:for|to|on|of)\s+(?:my\s+|the\s+)?[\w.@-]+(?:\s+account)?"
    r"\s*(?:is|:|=|was)\s*[\"']?([^\s\"']{3,64})"
)
_CATEGORIES: dict[str, re.Pattern[str]] = {
    "health": re.compile(
        r"(?i)\b(?:diagnos\w*|medication|medicine|prescri\w+|therap(?:y|ist)|depress\w*|anxiety|panic attacks?|"
        r"cancer|tumou?r|diabet\w*|hiv|pregnan\w*|miscarriage|surgery|chemo\w*|illness|disease|disorder|adhd|"
        r"autis\w*|bipolar|insulin|antidepressants?|blood pressure|my doctor|hospital\w*|symptoms?|allerg\w*|"
        r"asthma|migraines?|infection|std|sti|rehab|addict\w*|sober|mental health|psychiatr\w*)\b"
    ),
    "finance": re.compile(
        r"(?i)(?:\b(?:salary|income|i earn|earn(?:ing)? \$|debts?|loans?|mortgage|bank balance|credit score|"
        r"savings|overdraft|bankrupt\w*|net worth|invest(?:ed|ments?)|stocks?|401k|pension|tax(?:es)? return|"
        r"owe\b|paycheck|pay rise|raise of|per (?:year|month|hour)|a year|k a year)\b|[$€£]\s?\d)"
    ),
}


@dataclass
class Redacted:
    text: str
    kinds: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def redact_secrets(text: str) -> Redacted:
    """`text` with every secret replaced by "[redacted <kind>]"; the kinds found (never the values)."""
    kinds: list[str] = []

    def password(m: re.Match[str]) -> str:
        kinds.append("password")
        return m.group(0)[: m.start(1) - m.start(0)] + "[redacted password]"

    out = _PASSWORD_FOR.sub(password, text)
    redactor = Redactor(types=list(SECRET_TYPES))
    out = redactor.redact(out)
    kinds += [k.lower() for k, n in redactor.report().items() if n]

    def account(m: re.Match[str]) -> str:
        kinds.append("account")
        return m.group(0)[: m.start(1) - m.start(0)] + "[redacted account]"

    out = _ACCOUNT.sub(account, out)
    out = _PLACEHOLDER.sub(lambda m: f"[redacted {m.group(1).lower()}]", out)
    return Redacted(out, sorted(set(kinds)))


def has_secret(text: str) -> bool:
    return redact_secrets(text).changed


def categories(text: str) -> set[str]:
    return {name for name, pattern in _CATEGORIES.items() if pattern.search(text)}


def blocked(text: str, refused: Iterable[str]) -> str | None:
    """The first refused category `text` falls in, else None."""
    hit = categories(text) & set(refused)
    return sorted(hit)[0] if hit else None
