"""Small English helpers for the model-free extractor: sentence and clause splitting, first person to
third person, verb agreement. Written here because the NLP libraries that do this (spaCy, stanza) need
model downloads; these rules cover the first-person statements people make in chat."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|;\s*")
# a new clause starts where a first-person subject follows a comma or a joining word
_CLAUSE = re.compile(
    r",\s*(?:and\s+|but\s+|so\s+|now\s+|actually,?\s+)?(?=(?:i|i'm|i've|i'd|i'll|my)\b)|\s+(?:but|and)\s+(?=(?:i|i'm|i've|my)\b)",
    re.I,
)
ADVERBS = frozenset(
    [
        "really",
        "also",
        "just",
        "recently",
        "now",
        "still",
        "currently",
        "actually",
        "usually",
        "always",
        "often",
        "sometimes",
        "never",
        "mostly",
        "finally",
        "already",
        "even",
        "absolutely",
        "totally",
        "kind",
        "sort",
        "of",
    ]
)
_IRREGULAR_3RD = {"have": "has", "do": "does", "go": "goes", "am": "is", "be": "is"}
_KEEP = frozenset(
    [
        "can",
        "will",
        "would",
        "should",
        "could",
        "must",
        "might",
        "may",
        "did",
        "had",
        "was",
        "were",
        "left",
        "went",
        "got",
        "made",
        "met",
        "bought",
        "taught",
        "thought",
        "began",
        "became",
        "came",
        "ran",
        "took",
        "gave",
        "saw",
        "found",
        "felt",
        "kept",
        "lost",
        "paid",
        "sold",
        "told",
        "won",
        "wrote",
        "grew",
        "drove",
        "flew",
        "knew",
        "moved",
        "started",
        "joined",
        "quit",
        "used",
        "broke",
        "spent",
        "built",
        "brought",
        "caught",
        "chose",
        "fell",
        "forgot",
        "heard",
        "hurt",
        "read",
        "said",
        "sent",
        "sat",
        "slept",
        "spoke",
        "stood",
        "swam",
        "understood",
        "woke",
    ]
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def clauses(sentence: str) -> list[str]:
    return [c.strip(" ,") for c in _CLAUSE.split(sentence) if c and c.strip(" ,")]


def third_person_verb(word: str) -> str:
    low = word.lower()
    if low in _IRREGULAR_3RD:
        return _IRREGULAR_3RD[low]
    if low in _KEEP or low.endswith("ed") or low.endswith("n't"):
        return word
    if re.search(r"(s|sh|ch|x|z|o)$", low):
        return word + "es"
    if re.search(r"[^aeiou]y$", low):
        return word[:-1] + "ies"
    return word + "s"


_CONTRACTIONS = [
    (r"\bI'm\b", "{U} is"),
    (r"\bI am\b", "{U} is"),
    (r"\bI've\b", "{U} has"),
    (r"\bI'd\b", "{U} would"),
    (r"\bI'll\b", "{U} will"),
    (r"\bI was\b", "{U} was"),
    (r"\bI don't\b", "{U} doesn't"),
    (r"\bI do not\b", "{U} does not"),
    (r"\bI can't\b", "{U} can't"),
    (r"\bI haven't\b", "{U} hasn't"),
    (r"\bI'm not\b", "{U} is not"),
]


def to_third_person(clause: str, user: str) -> str:
    """'I teach chemistry in my spare time' -> 'Thota teaches chemistry in their spare time' (user=Thota)."""
    t = re.sub(r"[’‘]", "'", clause.strip())
    t = re.sub(
        r"^(?:actually|correction|update|fyi|btw|by the way|oh|well|so|also|and|but|ok|okay)[,:!]?\s+",
        "",
        t,
        flags=re.I,
    )
    for pattern, repl in _CONTRACTIONS:
        t = re.sub(pattern, repl, t, flags=re.I)

    def verb(m: re.Match[str]) -> str:
        adverbs, word = m.group(1) or "", m.group(2)
        return "{U} " + adverbs + third_person_verb(word)

    adv = "|".join(sorted(ADVERBS, key=len, reverse=True))
    t = re.sub(rf"\bI\s+((?:(?:{adv})\s+)*)([A-Za-z]+)", verb, t)
    t = re.sub(r"^\{U\}", "{U}", t)
    t = re.sub(r"^my\b", "{U}'s", t, flags=re.I)
    t = re.sub(r"\bmy\b", "their", t, flags=re.I)
    t = re.sub(r"\bmine\b", "theirs", t, flags=re.I)
    t = re.sub(r"\bmyself\b", "themselves", t, flags=re.I)
    t = re.sub(r"\bme\b", "them", t, flags=re.I)
    t = t.replace("{U}", user)
    t = t[0].upper() + t[1:] if t else t
    return t.rstrip(" .!") + "."


def normalize(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.lower()))


def lemma(word: str) -> str:
    w = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w
