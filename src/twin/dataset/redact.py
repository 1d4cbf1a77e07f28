"""Redaction of personal data before anything is written. Each detector is a regex plus, where a
checksum exists, a validator (Luhn for cards, mod-97 for IBANs). Values become typed placeholders
that stay consistent across one dataset (<EMAIL_1> is the same address everywhere); only counts by
type ever leave this module.

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


def _phone(m: re.Match[str]) -> bool:
    value = m.group(0).strip()
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15 or _DATE_LIKE.match(value):
        return False
    # A bare run of digits is a phone only with a leading + or typical grouping.
    return value.startswith("+") or bool(re.search(r"[\s().-]", value)) or value.startswith("0")


def _secret(m: re.Match[str]) -> bool:
    return _looks_random(m.group(0)) or bool(
        re.match(
            r"(sk|pk|rk)-|gh[pousr]_|github_pat_|AKIA|xox[abprs]-"
            r"|AIza|glpat-",
            m.group(0),
        )
    )


_STREET = (
    r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl|"
    r"terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy)"
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
            r"(?i)\b(?:api[_ -]?key|secret|token|bearer|auth[_ -]?key)\b[\"']?\s*(?:[:=]|is)?"
            r"\s*[\"']?([A-Za-z0-9_\-./+=]{16,})"
        ),
        None,
        1,
    ),
    ("URL", re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE), _url_has_token, 0),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), None, 0),
    (
        "PASSWORD",
        re.compile(
            r"(?i)\b(?:password|passwort|passwd|pwd|pw|passcode|pin)\b\s*(?:is|:|=|-)?\s*"
            r"[\"']?([^\s\"',;]{3,64})"
        ),
        None,
        1,
    ),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b"), _iban, 0),
    ("CARD", re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), _card, 0),
    (
        "CODE",
        re.compile(
            r"(?i)\b(?:code|otp|verification|one[- ]time|2fa|pin|passcode|token)\b[^\n\d]{0,25}?"
            r"\b(\d{3}[- ]?\d{3}|\d{4,8})\b"
        ),
        None,
        1,
    ),
    ("CODE", re.compile(r"(?i)\b(\d{4,8})\b(?=\s+is\s+your\b[^\n]{0,30}\b(?:code|otp|pin)\b)"), None, 1),
    ("PHONE", re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{5,}\d(?!\w)"), _phone, 0),
    ("ADDRESS", re.compile(rf"(?i)\b\d{{1,5}}[a-z]?\s+(?:[A-Z][\w'.-]*\s+){{1,4}}{_STREET}\b\.?"), None, 0),
    ("ADDRESS", re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|allee|platz|gasse)\s+\d{1,4}[a-z]?\b"), None, 0),
]
_DIGIT = re.compile(r"\d")
_NEEDS_DIGIT = {"PHONE", "CARD", "IBAN", "CODE", "ADDRESS"}
TYPES = sorted({t for t, *_ in _DETECTORS})


@dataclass
class Redactor:
    """Stateful across one dataset: the same value always maps to the same placeholder."""

    types: list[str] = field(default_factory=lambda: list(TYPES))
    allow_list: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    _maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._allowed = {a.strip().lower() for a in self.allow_list if a.strip()}
        self._active = [d for d in _DETECTORS if d[0] in set(self.types)]

    def _placeholder(self, kind: str, value: str) -> str:
        mapping = self._maps.setdefault(kind, {})
        key = re.sub(r"\s+", "", value).lower()
        if key not in mapping:
            mapping[key] = f"<{kind}_{len(mapping) + 1}>"
        self.counts[kind] += 1
        return mapping[key]

    def redact(self, text: str) -> str:
        has_digit = _DIGIT.search(text) is not None
        for kind, pattern, validator, group in self._active:
            if kind in _NEEDS_DIGIT and not has_digit:
                continue  # cheap pre-check: these detectors all need a digit
            if not pattern.search(text):
                continue
            text = pattern.sub(lambda m, k=kind, v=validator, g=group: self._replace(m, k, v, g), text)
        return text

    def _replace(self, m: re.Match[str], kind: str, validator: Validator | None, group: int) -> str:
        value = m.group(group)
        if not value or value.startswith("<") or value.lower() in self._allowed:
            return m.group(0)
        if validator is not None and not validator(m):
            return m.group(0)
        start, end = m.start(group) - m.start(0), m.end(group) - m.start(0)
        whole = m.group(0)
        return whole[:start] + self._placeholder(kind, value) + whole[end:]

    def report(self) -> dict[str, int]:
        """Counts by type, never values."""
        return {k: self.counts[k] for k in sorted(self.counts)}
