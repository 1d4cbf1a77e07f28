"""The style card: the writing habits a reader notices, measured from the owner's own messages, per
channel (chat and email write differently). Pure functions over text; no model, no I/O.

Measured per channel: message length distribution, sentence length, capitalization and punctuation
habits, emoji and exclamation rates, greetings and sign-offs, common phrases and the language mix.
`style_line()` turns a channel's card into the one line the system prompt carries; `card_distance()`
compares two cards (used by the style evaluation to say how far drafts are from the owner)."""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from pydantic import BaseModel, Field

CHANNELS = ("chat", "email")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
_PLACEHOLDER = re.compile(r"<[A-Z]+_\d+>")
GREETINGS = (
    "good morning",
    "good afternoon",
    "good evening",
    "hi there",
    "hey there",
    "hello there",
    "dear",
    "hi",
    "hey",
    "hello",
    "hiya",
    "heya",
    "morning",
    "yo",
    "hallo",
    "hola",
    "greetings",
)
SIGNOFFS = (
    "kind regards",
    "best regards",
    "warm regards",
    "many thanks",
    "thanks again",
    "all the best",
    "best wishes",
    "thank you",
    "take care",
    "talk soon",
    "speak soon",
    "see you",
    "regards",
    "cheers",
    "thanks",
    "best",
    "love",
    "xx",
    "ttyl",
)
_STOP_WORDS = (
    "a an the and or but so to of in on at for with is it i you we me my your be am are was this that do "
    "does did not no yes just have has had will would can could should if as by from up out about"
)
_STOP = frozenset(_STOP_WORDS.split())

_BAD_END = _STOP - {"you", "me", "no", "yes", "up", "out", "it", "do"}


def is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or unicodedata.category(ch) == "So"


class ChannelStyle(BaseModel):
    """One channel's habits. Rates are shares of messages (0–1) unless named otherwise."""

    channel: str
    messages: int = 0
    length: dict[str, float] = Field(default_factory=dict, description="Characters: p10, p25, median, p75, p90, mean.")
    words_median: float = 0.0
    sentence_words: float = Field(0.0, description="Mean words per sentence.")
    sentences_per_message: float = 0.0
    lowercase_start: float = Field(0.0, description="Messages that start with a lowercase letter.")
    all_lowercase: float = Field(0.0, description="Messages with letters but no capital letter at all.")
    lowercase_i: float = Field(0.0, description="Messages with the pronoun written 'i' (of those using it).")
    ends_with_period: float = 0.0
    no_end_punctuation: float = 0.0
    exclamation: float = Field(0.0, description="Messages with at least one '!'.")
    question: float = Field(0.0, description="Messages with at least one '?'.")
    ellipsis: float = 0.0
    emoji: float = Field(0.0, description="Messages with at least one emoji.")
    emoji_per_message: float = 0.0
    top_emoji: list[str] = Field(default_factory=list)
    greeting_rate: float = 0.0
    greetings: list[tuple[str, float]] = Field(default_factory=list, description="Opening words and their share.")
    signoff_rate: float = 0.0
    signoffs: list[tuple[str, float]] = Field(default_factory=list, description="Closing words and their share.")
    phrases: list[tuple[str, int]] = Field(default_factory=list, description="Frequent phrases (messages using them).")
    languages: dict[str, float] = Field(default_factory=dict, description="Share of messages per language.")


class StyleCard(BaseModel):
    version: int = 1
    channels: dict[str, ChannelStyle] = Field(default_factory=dict)

    def channel(self, name: str) -> ChannelStyle | None:
        """The card of `name`, else the channel with the most messages (None when the card is empty)."""
        if name in self.channels and self.channels[name].messages:
            return self.channels[name]
        return max(self.channels.values(), key=lambda c: c.messages, default=None)

    def main_channel(self) -> str:
        best = max(self.channels.values(), key=lambda c: c.messages, default=None)
        return best.channel if best is not None else "chat"


def _quantiles(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def q(p: float) -> float:
        pos = p * (len(ordered) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))

    out = {f"p{int(p * 100)}": round(q(p), 1) for p in (0.1, 0.25, 0.75, 0.9)}
    out["median"] = round(q(0.5), 1)
    out["mean"] = round(statistics.fmean(ordered), 1)
    return out


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.strip().splitlines() if ln.strip()]


def _norm(line: str) -> str:
    return " ".join(_WORD.findall(line.lower()))


def greeting_of(text: str) -> str | None:
    lines = _lines(text)
    if not lines:
        return None
    first = _norm(lines[0])
    for g in GREETINGS:
        if first == g or first.startswith(g + " "):
            return g
    return None


def _signoff_line(lines: list[str]) -> tuple[int, str] | None:
    """(index, closing word) of a sign-off in the last two lines, when that line is short."""
    for i in range(len(lines) - 1, max(len(lines) - 3, -1), -1):
        words = _norm(lines[i])
        if not words or len(words.split()) > 4:
            continue
        for s in SIGNOFFS:
            if words == s or words.startswith(s + " "):
                return i, s
    return None


def signoff_of(text: str) -> str | None:
    """A closing word in the last two lines, when that line is short (a sign-off, not a sentence)."""
    lines = _lines(text)
    if len(lines) < 2 and len(text) > 80:
        return None
    found = _signoff_line(lines)
    return found[1] if found else None


def body_of(text: str) -> str:
    """The message without its greeting line and its sign-off (and the name under it)."""
    lines = _lines(text)
    found = _signoff_line(lines) if len(lines) >= 2 else None
    if found:
        lines = lines[: found[0]]
    if len(lines) > 1 and greeting_of(lines[0]) and len(lines[0]) <= 40:
        lines = lines[1:]
    return "\n".join(lines) or text.strip()


def _phrases(texts: Sequence[str], top: int = 8) -> list[tuple[str, int]]:
    seen: Counter[str] = Counter()
    for t in texts:
        words = [w.lower() for w in _WORD.findall(_PLACEHOLDER.sub(" ", t))]
        grams = set()
        for n in (2, 3):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if gram[-1] not in _BAD_END and not all(w in _STOP for w in gram):
                    grams.add(" ".join(gram))
        seen.update(grams)
    floor = max(2, math.ceil(len(texts) * 0.02))
    common = [(g, c) for g, c in seen.items() if c >= floor]
    common.sort(key=lambda gc: (-gc[1], -len(gc[0]), gc[0]))
    out: list[tuple[str, int]] = []
    for g, c in common:  # drop a phrase contained in one already taken with a similar count
        if any(g in o and oc >= c * 0.8 for o, oc in out):
            continue
        out.append((g, c))
        if len(out) == top:
            break
    return out


def _share(flags: Iterable[bool], n: int) -> float:
    return round(sum(flags) / n, 3) if n else 0.0


def _top(counter: Counter[str], n: int, total: int) -> list[tuple[str, float]]:
    return [(k, round(v / total, 3)) for k, v in counter.most_common(n)] if total else []


def measure_channel(channel: str, texts: Sequence[str], detect: Callable[[str], str] | None = None) -> ChannelStyle:
    """The habits of one channel's messages."""
    texts = [t.strip() for t in texts if t and t.strip()]
    n = len(texts)
    if not n:
        return ChannelStyle(channel=channel)
    bodies = [body_of(t) for t in texts]
    words = [len(_WORD.findall(t)) for t in texts]
    sentences = [max(1, len(_SENTENCE_END.findall(t)) or 1) for t in texts]
    letters = [[c for c in t if c.isalpha()] for t in texts]
    firsts = [next((c for c in t if c.isalpha()), "") for t in texts]
    uses_i = [t for t in texts if re.search(r"\b[iI]\b", t)]
    emoji_counts = [sum(is_emoji(c) for c in t) for t in texts]
    emoji_chars: Counter[str] = Counter(c for t in texts for c in t if is_emoji(c))
    greetings = Counter(g for t in texts if (g := greeting_of(t)))
    signoffs = Counter(s for t in texts if (s := signoff_of(t)))
    langs: Counter[str] = Counter(detect(t) for t in texts if len(t) >= 20) if detect else Counter()
    langs.pop("und", None)
    lang_total = sum(langs.values())
    return ChannelStyle(
        channel=channel,
        messages=n,
        length=_quantiles([len(t) for t in texts]),
        words_median=float(statistics.median(words)),
        sentence_words=round(sum(words) / sum(sentences), 1),
        sentences_per_message=round(statistics.fmean(sentences), 2),
        lowercase_start=_share((c.islower() for c in firsts), n),
        all_lowercase=_share((bool(ls) and not any(c.isupper() for c in ls) for ls in letters), n),
        lowercase_i=_share((re.search(r"\bi\b", t) is not None for t in uses_i), len(uses_i)),
        ends_with_period=_share((b.endswith(".") and not b.endswith("...") for b in bodies), n),
        no_end_punctuation=_share((b[-1] not in ".!?…,;:)" for b in bodies), n),
        exclamation=_share(("!" in t for t in texts), n),
        question=_share(("?" in t for t in texts), n),
        ellipsis=_share(("..." in t or "…" in t for t in texts), n),
        emoji=_share((c > 0 for c in emoji_counts), n),
        emoji_per_message=round(sum(emoji_counts) / n, 3),
        top_emoji=[e for e, _ in emoji_chars.most_common(5)],
        greeting_rate=_share((greeting_of(t) is not None for t in texts), n),
        greetings=_top(greetings, 3, n),
        signoff_rate=_share((signoff_of(t) is not None for t in texts), n),
        signoffs=_top(signoffs, 3, n),
        phrases=_phrases(bodies),
        languages={k: round(v / lang_total, 3) for k, v in langs.most_common(5)} if lang_total else {},
    )


def measure(texts_by_channel: Mapping[str, Sequence[str]], detect: Callable[[str], str] | None = None) -> StyleCard:
    """A card with one entry per channel that has messages."""
    return StyleCard(
        channels={ch: measure_channel(ch, texts, detect) for ch, texts in texts_by_channel.items() if texts}
    )


def _rate(value: float, often: str, sometimes: str, never: str | None = None) -> str | None:
    if value >= 0.35:
        return often
    if value >= 0.1:
        return sometimes
    return never


def _size(median: float) -> str:
    return "very short" if median < 40 else "short" if median < 100 else "medium-length" if median < 400 else "long"


def style_line(style: ChannelStyle | None) -> str:
    """One line for the system prompt, e.g. 'short chat messages (about 40 characters), all lowercase, …'."""
    if style is None or not style.messages:
        return "natural and concise"
    noun = "emails" if style.channel == "email" else "chat messages"
    median = style.length.get("median", 0.0)
    about = int(round(median, -1)) or 10
    traits = [f"{_size(median)} {noun} (about {about} characters)"]
    if style.all_lowercase >= 0.6:
        traits.append("writes in all lowercase")
    elif style.lowercase_start >= 0.5:
        traits.append("often starts in lowercase")
    if style.no_end_punctuation >= 0.6:
        traits.append("usually leaves out the final full stop")
    for trait in (
        _rate(style.emoji, "uses emoji often", "uses emoji now and then", "rarely uses emoji"),
        _rate(style.exclamation, "likes exclamation marks", "uses an exclamation mark now and then"),
    ):
        if trait:
            traits.append(trait)
    if style.top_emoji and style.emoji >= 0.1:
        traits[-2 if style.exclamation >= 0.1 else -1] += f" ({' '.join(style.top_emoji[:3])})"
    if style.greetings and style.greeting_rate >= 0.3:
        traits.append(f"opens with “{style.greetings[0][0].capitalize()}”")
    elif style.greeting_rate < 0.05:
        traits.append("no greetings")
    if style.signoffs and style.signoff_rate >= 0.3:
        traits.append(f"signs off with “{style.signoffs[0][0].capitalize()}”")
    if style.phrases:
        traits.append("often says " + ", ".join(f"“{p}”" for p, _ in style.phrases[:3]))
    return ", ".join(traits)


_DISTANCE_RATES = (
    "lowercase_start",
    "all_lowercase",
    "ends_with_period",
    "no_end_punctuation",
    "exclamation",
    "question",
    "emoji",
    "greeting_rate",
    "signoff_rate",
)


def card_distance(owner: ChannelStyle, other: ChannelStyle) -> dict[str, float]:
    """Per-habit differences and their mean ('total'): rates as absolute differences, length as
    |log2(median ratio)| capped at 1, so 0 means the same habits and 1 means opposite ones."""
    out: dict[str, float] = {}
    if not owner.messages or not other.messages:
        return {"total": 1.0}
    a, b = owner.length.get("median", 1.0) or 1.0, other.length.get("median", 1.0) or 1.0
    out["length"] = round(min(1.0, abs(math.log2(max(a, 1.0) / max(b, 1.0)))), 3)
    for key in _DISTANCE_RATES:
        out[key] = round(abs(getattr(owner, key) - getattr(other, key)), 3)
    out["total"] = round(statistics.fmean(out.values()), 3)
    return out


def default_max_tokens(style: ChannelStyle | None, floor: int = 48, ceiling: int = 768) -> int:
    """A generation limit that fits the owner's long messages (p90 length), with room to finish."""
    if style is None or not style.length:
        return 200
    p90 = style.length.get("p90", style.length.get("median", 200.0))
    return max(floor, min(ceiling, int(p90 / 3.5 * 1.5) + 16))
