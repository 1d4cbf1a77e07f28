"""Text normalization for speech: numbers, ordinals, dates, times, currency, percentages, abbreviations
and symbols become words, so every engine reads them the same way (and the cache keys on what is said).

Written here rather than taken from num2words (LGPL) to keep the core permissively licensed; English only,
other languages pass through unchanged apart from whitespace. Every language first goes through
`clean_text`: NFC, no control or invisible format characters, no lone surrogates, so what reaches an
engine (espeak-ng refuses NUL, HTTP engines refuse invalid UTF-8) is always plain printable text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]
_ORD_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_ABBREV = {
    "mr": "mister",
    "mrs": "missus",
    "ms": "miz",
    "dr": "doctor",
    "st": "saint",
    "prof": "professor",
    "jr": "junior",
    "sr": "senior",
    "vs": "versus",
    "etc": "et cetera",
    "approx": "approximately",
    "no": "number",
    "e.g": "for example",
    "i.e": "that is",
    "ft": "feet",
    "km": "kilometers",
    "kg": "kilograms",
    "min": "minutes",
    "hr": "hours",
}
_SYMBOLS = {
    "&": " and ",
    "%": " percent",
    "@": " at ",
    "+": " plus ",
    "=": " equals ",
    "#": " number ",
    "°": " degrees",
    "×": " times ",
    "/": " slash ",
}
_CURRENCY = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
}


def number_words(n: int) -> str:
    """Cardinal words for an integer (negative allowed)."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + (" " + number_words(rest) if rest else "")
    for value, word in _SCALES:
        if n >= value:
            rest = n % value
            return number_words(n // value) + " " + word + (" " + number_words(rest) if rest else "")
    return str(n)


def ordinal_words(n: int) -> str:
    words = number_words(n)
    head, sep, last = words.rpartition(" " if " " in words and "-" not in words.split(" ")[-1] else "-")
    if not sep:
        head, last = "", words
    if last in _ORD_IRREGULAR:
        last = _ORD_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}" if sep else last


def year_words(y: int) -> str:
    if 2000 <= y < 2010 or y % 1000 == 0:
        return number_words(y)
    hi, lo = divmod(y, 100)
    if lo == 0:
        return number_words(hi) + " hundred"
    return number_words(hi) + " " + (number_words(lo) if lo >= 10 else "oh " + number_words(lo))


def _decimal(m: re.Match[str]) -> str:
    whole, frac = m.group(1).replace(",", ""), m.group(2)
    return number_words(int(whole)) + " point " + " ".join(_ONES[int(d)] for d in frac)


def _currency(m: re.Match[str]) -> str:
    one, many, sub1, subn = _CURRENCY[m.group(1)]
    whole = int(m.group(2).replace(",", ""))
    cents = int((m.group(3) or "0").ljust(2, "0")[:2])
    text = f"{number_words(whole)} {one if whole == 1 else many}"
    if cents:
        text += f" and {number_words(cents)} {sub1 if cents == 1 else subn}"
    return text


def _iso_date(m: re.Match[str]) -> str:
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    return f"{_MONTHS[mo - 1]} {ordinal_words(d)}, {year_words(y)}"


def _us_date(m: re.Match[str]) -> str:
    mo, d, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    return f"{_MONTHS[mo - 1]} {ordinal_words(d)}, {year_words(y)}"


def _time(m: re.Match[str]) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    suffix = {"am": " a m", "pm": " p m"}.get((m.group(3) or "").lower().replace(".", ""), "")
    if mi == 0:
        return number_words(h) + (suffix or " o'clock")
    return number_words(h) + " " + (number_words(mi) if mi >= 10 else "oh " + number_words(mi)) + suffix


def _abbrev(m: re.Match[str]) -> str:
    word = m.group(1)
    return _ABBREV.get(word.lower(), word) if word.lower() in _ABBREV else m.group(0)


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), _iso_date),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), _us_date),
    (re.compile(r"\b(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?", re.I), _time),
    (re.compile(r"([$€£])\s?(\d[\d,]*)(?:\.(\d{1,2}))?"), _currency),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: ordinal_words(int(m.group(1)))),
    (re.compile(r"\b(\d[\d,]*)\.(\d+)\b"), _decimal),
    (
        re.compile(r"\b(1[1-9]\d\d|20\d\d)s\b"),
        lambda m: (
            year_words(int(m.group(1))).rstrip("y") + ("ies" if year_words(int(m.group(1))).endswith("y") else "s")
        ),
    ),
    (re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+)\b"), lambda m: number_words(int(m.group(1).replace(",", "")))),
    (re.compile(r"\b(e\.g|i\.e|[A-Za-z]{1,6})\.(?=\s|$)"), _abbrev),
]


# Zero-width joiners change how some scripts (and emoji sequences) are written; every other format
# character (soft hyphen, bidi marks, BOM, zero-width space) is invisible and has no sound.
_KEEP_FORMAT = {"\u200c", "\u200d"}
# Cc: C0/C1 controls and DEL; Cs: lone surrogates (valid JSON, not encodable); Co: private use.
_DROP_CATEGORIES = {"Cc", "Cs", "Co"}
# Terminal colour and cursor sequences pasted from a console: ESC [ params letter.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _visible(ch: str) -> str:
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)
    if category in _DROP_CATEGORIES:
        return " "
    if category == "Cf" and ch not in _KEEP_FORMAT:
        return ""
    return ch


def clean_text(text: str) -> str:
    """NFC text with control, surrogate, private-use and invisible format characters removed (a control
    character becomes a space, so words it separated stay apart) and whitespace collapsed."""
    if not text.isprintable():
        text = "".join(_visible(ch) for ch in _ANSI_ESCAPE.sub(" ", text))
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", " ", text).strip()


def normalize_text(text: str, language: str = "en") -> str:
    """Words for what should be spoken; whitespace collapsed. Non-English text is only cleaned up."""
    text = clean_text(text or "")
    if not language.lower().startswith("en"):
        return text
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    for sym, word in _SYMBOLS.items():
        text = text.replace(sym, word)
    return re.sub(r"\s+", " ", text).strip()


def has_words(text: str) -> bool:
    """Whether an engine has anything to say: a letter, digit or symbol (emoji and currency signs are
    read out), not just punctuation such as '...', which every engine turns into silence."""
    return any(not unicodedata.category(ch).startswith(("P", "Z", "C")) for ch in text)
