"""Redaction of personal data before anything is written. Each detector is a regex plus, where a
checksum exists, a validator (Luhn for cards, mod-97 for IBANs). Values become typed placeholders
that stay consistent across one dataset (<EMAIL_1> is the same address everywhere). The report gets
counts by type and, when asked, a few before → after examples per type for the owner to check.

Hand-written because the usual libraries (presidio, scrubadub) need spaCy models that download."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

Validator = Callable[[re.Match[str]], bool]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    s = re.sub(r"\s+", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


_TOKEN_KEYS = {
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "key",
    "api_key",
    "apikey",
    "sig",
    "signature",
    "auth",
    "code",
    "password",
    "pass",
    "secret",
    "session",
    "sessionid",
    "sid",
    "otp",
    "x-amz-signature",
    "x-amz-credential",
    "ticket",
    "reset",
    "invite",
}


def _url_has_token(m: re.Match[str]) -> bool:
    url = m.group(0)
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
    except ValueError:
        return True
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in _TOKEN_KEYS or _looks_random(v):
            return True
    return any(_looks_random(seg) for seg in (parts.path + "/" + parts.fragment).split("/"))


def _looks_random(s: str) -> bool:
    """Long mixed letter+digit strings (tokens, keys), not words or plain numbers."""
    if len(s) < 20:
        return False
    has_digit = any(c.isdigit() for c in s)
    has_alpha = any(c.isalpha() for c in s)
    return has_digit and has_alpha and not re.fullmatch(r"[a-z]+(-[a-z]+)*", s)


def _card(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group(0))
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _iban(m: re.Match[str]) -> bool:
    return iban_ok(m.group(0))


_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_NOT_PHONE = re.compile(
    r"^(?:\d{1,2}[.:]\d{2}\s*[-–]\s*\d{1,2}[.:]\d{2}"  # a time range, 9.30-11.00
    r"|(?:19|20)\d{2}\s*[-–/]\s*(?:19|20)?\d{2}"  # a year range, 2023-2024
    r"|\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?"  # a thousands-grouped amount, 1.250.000
    r"|\d+\.\d+)$"  # a decimal number
)


def _phone(m: re.Match[str]) -> bool:
    value = m.group(0).strip()
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15 or _DATE_LIKE.match(value) or _NOT_PHONE.match(value):
        return False
    # A bare run of digits is a phone only with a leading + or typical grouping.
    return value.startswith("+") or bool(re.search(r"[ ().-]", value)) or value.startswith("0")


def _secret(m: re.Match[str]) -> bool:
    return _looks_random(m.group(0)) or bool(
        re.match(
            r"(sk|pk|rk)-|gh[pousr]_|github_pat_|AKIA|xox[abprs]-"
            r"|AIza|glpat-",
            m.group(0),
        )
    )


def _secret_value(m: re.Match[str]) -> bool:
    """A keyed secret's value looks like a key (digits, mixed case or symbols), not a word."""
    v = m.group(1)
    return any(c.isdigit() for c in v) or (v.lower() != v and v.upper() != v) or bool(re.search(r"[_\-./+=]", v))


# Words that follow "password is …" in ordinary sentences about a password.
_NOT_PASSWORDS_WORDS = (
    "wrong correct incorrect expired changed same different required needed the a an in on still not too "
    "case weak strong fine ok okay invalid reset saved written below above attached here there for my "
    "your our his her their it this that being also again now stored"
)
_NOT_PASSWORDS = frozenset(_NOT_PASSWORDS_WORDS.split())


def _password(m: re.Match[str]) -> bool:
    value, sep = m.group(2), m.group(1) or ""
    if value.lower().strip(".!?") in _NOT_PASSWORDS:
        return False
    looks_secret = any(c.isdigit() for c in value) or bool(re.search(r"[^\w]", value))
    return looks_secret or sep.strip() != ""


_UNIT = r"(?:ms|s|sec|secs|seconds?|mins?|minutes?|hours?|h|km|kg|mb|gb|lines?|users?|people|%|€|\$|£)"


def _code(m: re.Match[str]) -> bool:
    """Not a year after "dress code for 2025", not a measurement ("code runs in 1200 ms")."""
    value, between = m.group(1), m.group(0)[: m.start(1) - m.start(0)]
    after = m.string[m.end(1) : m.end(1) + 12]
    if re.match(rf"\s*{_UNIT}\b", after, re.IGNORECASE):
        return False
    if re.search(r"\b(?:at|by|until|from|before|after|around|in|for|since|on|of)\s*$", between, re.IGNORECASE):
        return False  # "the code review is at 1400": a time, a year or a count follows a preposition
    is_year = re.fullmatch(r"(?:19|20)\d{2}", value) is not None
    return not (is_year and not re.search(r"(?:\bis\b|[:=])\s*$", between))


_STREET = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|"
    r"Terrace|Close|Crescent|Square|Sq|Highway|Hwy|Parkway|Pkwy)"
)
# Suffixes that are not also everyday words, so they count in lowercase too ("12 oak street").
_STREET_ANY_CASE = r"(?i:street|avenue|road|lane|boulevard|terrace|crescent|highway|parkway|blvd|ave|rd)"
# Words that never sit between a house number and a street name ("at 1 at the usual place").
_NOT_STREET_WORD = (
    r"(?!(?i:at|the|on|in|of|for|to|and|or|a|an|my|our|your|his|her|their|usual|same|next|near|by|"
    r"with|from|then|every|each|one|more|other|way|minutes?|hours?|mins?|pm|am)\b)"
)

# (type, pattern, validator or None, group holding the value)
_DETECTORS: list[tuple[str, re.Pattern[str], Validator | None, int]] = [
    (
        "SECRET",
        re.compile(
            r"\b(?:sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
            r"|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,}"
            r"|glpat-[A-Za-z0-9_-]{20,})"
        ),
        None,
        0,
    ),
    (
        "SECRET",
        re.compile(
            r"(?i)\b(?:api[_ -]?key|secret|token|bearer|auth[_ -]?key)\b[\"']?[ \t]*(?:[:=]|is)?[ \t]*[\"']?"
            r"([A-Za-z0-9_\-./+=]{16,})"
        ),
        _secret_value,
        1,
    ),
    ("URL", re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE), _url_has_token, 0),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), None, 0),
    (
        "PASSWORD",
        re.compile(
            r"(?i)\b(?:password|passwort|passwd|pwd|pw|passcode|pin)\b[ \t]*(\bis\b|:|=|-)?[ \t]*"
            r"[\"']?([^\s\"',;]{3,64})"
        ),
        _password,
        2,
    ),
    (
        "PASSWORD",
        re.compile(r"(?i)\b(?:password|passwort|passcode|pin)\b[^\n]{1,30}?(\bis\b|:)[ \t]*[\"']?([^\s\"',;]{3,64})"),
        _password,
        2,
    ),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b"), _iban, 0),
    ("CARD", re.compile(r"(?<![+\d])\b\d(?:[ -]?\d){12,18}\b"), _card, 0),
    (
        "CODE",
        re.compile(
            r"(?i)\b(?:code|otp|verification|one[- ]time|2fa|pin|passcode|token)\b[^\n\d]{0,25}?"
            r"\b(\d{3}[- ]?\d{3}|\d{4,8})\b"
        ),
        _code,
        1,
    ),
    ("CODE", re.compile(r"(?i)\b(\d{4,8})\b(?=\s+is\s+your\b[^\n]{0,30}\b(?:code|otp|pin)\b)"), None, 1),
    ("PHONE", re.compile(r"(?<![\w+])\+?\(?\d[\d \t().-]{5,}\d(?!\w)"), _phone, 0),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,5}}[A-Za-z]?[ \t]+(?:{_NOT_STREET_WORD}[A-Za-z][\w'.-]*[ \t]+){{1,4}}{_STREET_ANY_CASE}\b\.?"
        ),
        None,
        0,
    ),
    ("ADDRESS", re.compile(rf"\b\d{{1,5}}[A-Za-z]?[ \t]+(?:[A-Z][\w'.-]*[ \t]+){{1,4}}{_STREET}\b\.?"), None, 0),
    (
        "ADDRESS",
        re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|allee|platz|gasse)[ \t]+\d{1,4}[a-z]?\b"),
        None,
        0,
    ),
]
_DIGIT = re.compile(r"\d")
_NEEDS_DIGIT = {"PHONE", "CARD", "IBAN", "CODE", "ADDRESS"}
TYPES = sorted({t for t, *_ in _DETECTORS})


@dataclass(frozen=True)
class Hit:
    """One redacted value: its type, the original value and the placeholder that replaced it."""

    kind: str
    value: str
    placeholder: str


@dataclass
class Redactor:
    """Stateful across one dataset: the same value always maps to the same placeholder.

    `examples_per_type` > 0 keeps that many before → after snippets per type (the first ones seen), so
    the owner can check what was changed; they hold the original values and stay in the profile."""

    types: list[str] = field(default_factory=lambda: list(TYPES))
    allow_list: list[str] = field(default_factory=list)
    examples_per_type: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    _maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._allowed = {a.strip().lower() for a in self.allow_list if a.strip()}
        self._active = [d for d in _DETECTORS if d[0] in set(self.types)]
        self._hits: list[Hit] = []

    def _placeholder(self, kind: str, value: str) -> str:
        mapping = self._maps.setdefault(kind, {})
        key = re.sub(r"\s+", "", value).lower()
        if key not in mapping:
            mapping[key] = f"<{kind}_{len(mapping) + 1}>"
        self.counts[kind] += 1
        return mapping[key]

    def redact(self, text: str) -> str:
        return self.redact_with_hits(text)[0]

    def redact_with_hits(self, text: str) -> tuple[str, list[Hit]]:
        """The redacted text and every value replaced in it, in the order the detectors ran."""
        self._hits = []
        has_digit = _DIGIT.search(text) is not None
        for kind, pattern, validator, group in self._active:
            if kind in _NEEDS_DIGIT and not has_digit:
                continue  # cheap pre-check: these detectors all need a digit
            if not pattern.search(text):
                continue
            replacer = _Replacer(self, kind, validator, group)
            text = pattern.sub(replacer, text)
        return text, list(self._hits)

    def _replace(self, m: re.Match[str], kind: str, validator: Validator | None, group: int) -> str:
        value = m.group(group)
        if not value or value.startswith("<") or value.lower() in self._allowed:
            return m.group(0)
        if validator is not None and not validator(m):
            return m.group(0)
        start, end = m.start(group) - m.start(0), m.end(group) - m.start(0)
        whole = m.group(0)
        placeholder = self._placeholder(kind, value)
        self._hits.append(Hit(kind, value, placeholder))
        self._keep_example(m, kind, group, placeholder)
        return whole[:start] + placeholder + whole[end:]

    def _keep_example(self, m: re.Match[str], kind: str, group: int, placeholder: str) -> None:
        kept = self.examples.setdefault(kind, [])
        if len(kept) >= self.examples_per_type:
            return
        text, a, b = m.string, m.start(group), m.end(group)
        lo, hi = max(0, a - _CONTEXT), min(len(text), b + _CONTEXT)
        lead, tail = ("…" if lo else ""), ("…" if hi < len(text) else "")
        before = lead + text[lo:hi] + tail
        after = lead + text[lo:a] + placeholder + text[b:hi] + tail
        kept.append({"before": " ".join(before.split()), "after": " ".join(after.split())})

    def report(self) -> dict[str, int]:
        """Counts by type, never values."""
        return {k: self.counts[k] for k in sorted(self.counts)}

    def example_report(self) -> dict[str, list[dict[str, str]]]:
        """Before → after snippets by type (empty unless examples_per_type was set)."""
        return {k: list(v) for k, v in sorted(self.examples.items()) if v}


_CONTEXT = 40


@dataclass(frozen=True)
class _Replacer:
    """re.sub callback bound to one detector (a class rather than a lambda so it type-checks)."""

    redactor: Redactor
    kind: str
    validator: Validator | None
    group: int

    def __call__(self, m: re.Match[str]) -> str:
        return self.redactor._replace(m, self.kind, self.validator, self.group)
