"""Output cleanup: keep only the draft — one draft.

Small models (and some big ones) wrap a draft in chatter: "Sure! Here's a draft:", [DRAFT] markers,
code fences, wrapping quotes, and a closing "Feel free to adjust…" paragraph; and they go on to write
a second draft after a separator line ("---"), a heading ("Draft 2:", "Alternatively:") or a new chat
turn ("User:", <|im_start|>). `clean_draft` removes exactly those wrappers and cuts at the first
second-draft marker that follows some text, and nothing else: a preamble only when it fills a whole
first line (or ends in a colon that introduces the draft), a trailing note only when it is a separate
final paragraph starting with a known note opener, and it never returns less than nothing — if
cleaning would leave no text, the original text is kept. `StreamCleaner` applies the same rules to a
stream, holding back only the few characters that could still turn out to be a wrapper or a marker."""

from __future__ import annotations

import re

_MARKER = re.compile(r"\[\s*/?\s*(?:end\s+(?:of\s+)?)?draft\s*\]", re.IGNORECASE)
_FENCE_OPEN = re.compile(r"\A```[\w+-]*[ \t]*\n")
_FENCE_LINE = re.compile(r"(?:\A|\n)```[ \t]*(?:\n|\Z)")
_INTERJECTION = (
    r"(?:sure(?: thing)?|certainly|of course|absolutely|okay|ok|great|got it|happy to help|"
    r"here you go)"
)
_INTRO = (
    r"(?:here(?:'s| is)|below is)\s*(?:a|an|the|your|my)?\s*"
    r"(?:(?:quick|short|brief|possible|revised|suggested|concise|new|polished|draft(?:ed)?)\s+)*"
    r"(?:draft|reply|response|message|email|e-mail|note|version|text)\b[^:\n]{0,80}"
)
_PREAMBLE_LINE = re.compile(
    rf"\A\s*(?:\**)(?:{_INTERJECTION}[!.,]*\s*(?:{_INTRO}[:.!]?)?|{_INTRO}:|(?:draft|reply|response)\s*:)"
    rf"(?:\**)[ \t]*(?:\n|\Z)",
    re.IGNORECASE,
)
_PREAMBLE_INLINE = re.compile(rf"\A\s*(?:{_INTERJECTION}[!.,]*\s*)?{_INTRO}:[ \t]*(?=\S)", re.IGNORECASE)
# Only openers that talk *about* the draft; ordinary closings ("Let me know if…", "I hope this finds
# you well") are part of drafts and must never be cut.
_NOTE_OPENERS = (
    "note:",
    "notes:",
    "(note",
    "explanation:",
    "this draft",
    "this version",
    "this reply",
    "this response",
    "i've kept",
    "i kept it",
    "i have kept",
    "i've made it",
    "i made it",
    "hope this helps",
    "i hope this helps",
    "feel free to adjust",
    "feel free to edit",
    "feel free to modify",
    "feel free to tweak",
    "feel free to customize",
    "let me know if you'd like me to",
    "---",
    "***",
)
_STARTERS = (
    "sure",
    "certainly",
    "of course",
    "absolutely",
    "okay",
    "ok",
    "great",
    "got it",
    "happy to help",
    "here",
    "below is",
    "draft",
    "reply",
    "response",
    "*",
    "[",
    "`",
)
_HOLD = re.compile(r"(?:\[[^\]\n]{0,14}|`{1,3}|[\"”’'»]|<\|?[a-z_]{0,14}\|?|\s)+\Z")
# Where a second draft or a new turn starts: a separator rule, a numbered/alternative heading, a role
# line, or a chat template token anywhere.
_SEPARATOR_LINE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,}|={3,}|#{3,})[ \t]*$", re.MULTILINE)
_SECOND_HEADING = re.compile(
    r"^[ \t]*[*_#]*[ \t]*(?:(?:draft|version|option|alternative|reply|response|email|message)[ \t]*#?[ \t]*"
    r"(?:2|two|ii|b)[ \t]*[:.)\-]|alternatively[,:]|another (?:version|option|draft|take)\b[^\n]{0,40}:|"
    r"(?:user|assistant|human|system)[ \t]*:)",
    re.MULTILINE | re.IGNORECASE,
)
_FIRST_HEADING = re.compile(
    r"\A[ \t]*[*_#]*[ \t]*(?:draft|version|option)[ \t]*#?[ \t]*(?:1|one|i|a)[ \t]*[:.)\-][*_]*[ \t]*\n?",
    re.IGNORECASE,
)
_TURN_TOKEN = re.compile(r"<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|end_of_text)\|>")
_HEADING_WORDS = ("draft", "version", "option", "alternative", "reply", "response", "email", "message")
_CUT_PREFIXES = ("---", "***", "___", "===", "###", "alternatively", "another ", "user:", "assistant:", "human:")
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "«": "»"}


def _strip_fences(t: str) -> str:
    """Unwrap a leading fenced block; text after its closing fence stays (as a later paragraph)."""
    m = _FENCE_OPEN.match(t)
    if not m:
        return t
    body = t[m.end() :]
    close = _FENCE_LINE.search(body)
    if close is None:
        return body
    after = body[close.end() :].strip()
    return body[: close.start()].rstrip() + ("\n\n" + after if after else "")


def strip_preamble(text: str) -> str:
    """The text without a leading "Sure! Here's a draft:" line (the text itself when it has none)."""
    return _strip_preamble(text.strip())


def _strip_preamble(t: str, allow_empty: bool = False) -> str:
    for _ in range(2):  # "Sure!\nHere's a draft:\n…"
        m = _PREAMBLE_LINE.match(t) or _PREAMBLE_INLINE.match(t)
        if not m or not (allow_empty or t[m.end() :].strip()):
            break
        t = t[m.end() :].lstrip()
    return t


def cut_second_draft(t: str) -> str:
    """Text up to the first marker of a second draft or a new turn that follows some draft text (a
    preamble alone does not count as draft text: "Here's a draft:\n---\n…" keeps going)."""
    cuts = [m.start() for m in _TURN_TOKEN.finditer(t)]
    cuts += [m.start() for m in _SEPARATOR_LINE.finditer(t)] + [m.start() for m in _SECOND_HEADING.finditer(t)]
    for cut in sorted(cuts):
        before = _strip_leading(_strip_preamble(t[:cut], allow_empty=True))
        if before.strip():
            return t[:cut].rstrip()
    return t


def _strip_leading(t: str) -> str:
    """Without a first-draft heading ("Draft 1:") or separator lines before the draft."""
    t = _FIRST_HEADING.sub("", t.lstrip(), count=1)
    while (m := _SEPARATOR_LINE.match(t)) is not None:
        t = t[m.end() :].lstrip()
    return t


def _is_note(paragraph: str) -> bool:
    p = paragraph.strip().lower().lstrip("*_ ")
    return p.startswith(_NOTE_OPENERS)


def _strip_notes(t: str) -> str:
    while True:
        head, sep, tail = t.rpartition("\n\n")
        if not sep or not head.strip() or not _is_note(tail):
            return t
        t = head.rstrip()


def _strip_quotes(t: str) -> str:
    if len(t) >= 2 and t[0] in _QUOTES and t[-1] == _QUOTES[t[0]]:
        inner = t[1:-1]
        opening, closing = t[0], _QUOTES[t[0]]
        if opening not in inner and closing not in inner and inner.strip():
            return inner.strip()
    return t


def clean_draft(text: str, *, keep_if_empty: bool = True) -> str:
    """The draft without preambles, markers, fences, wrapping quotes and trailing notes.

    When nothing would be left, the original text is returned (keep_if_empty=False returns "")."""
    original = text.strip() if keep_if_empty else ""
    t = _MARKER.sub("", text).strip()
    t = _strip_fences(t).strip()
    t = _MARKER.sub("", t).strip()
    t = cut_second_draft(t)
    t = _strip_leading(_strip_preamble(t))
    t = _strip_notes(t)
    t = _strip_fences(t).strip()
    t = _strip_quotes(t)
    return t or original


def _could_be_cut(line: str) -> bool:
    """A last, unfinished line that may still turn into a separator or a second-draft heading."""
    s = line.strip().lstrip("*_#").strip().lower()
    if not s or set(s) <= set("-*_=#"):
        return True
    if any(p.startswith(s) or s.startswith(p) for p in _CUT_PREFIXES):
        return True
    word, _, rest = s.partition(" ")
    if any(w.startswith(word) for w in _HEADING_WORDS) and not rest:
        return True
    return word in _HEADING_WORDS and re.fullmatch(r"[ #]*\w{0,3}", rest) is not None


def _could_be_preamble(first_line: str) -> bool:
    s = first_line.lstrip().lower()
    return any(st.startswith(s) or s.startswith(st) for st in _STARTERS) or s[:1] in _QUOTES


class StreamCleaner:
    """Feed pieces, get the cleaned text that is safe to show so far; `finish()` returns the rest.

    Shown text is a prefix of the final clean text except in one rare case (text that opens with a
    quote which turns out not to wrap the draft); `diverged` reports it and the final text wins."""

    def __init__(self) -> None:
        self.raw = ""
        self.shown = ""
        self.diverged = False

    def _stable(self) -> str:
        t = _MARKER.sub("", self.raw).lstrip()
        head = _strip_preamble(t, allow_empty=True)
        first, nl, _ = head.partition("\n")
        if not head.strip() or (not nl and _could_be_preamble(first) and len(first) < 200):
            return ""
        if t[:1] in _QUOTES:  # assume a wrapping quote until the end shows otherwise
            t = t[1:]
        t = clean_draft(t, keep_if_empty=False)
        # hold back what might still become a marker, fence, closing quote, note paragraph or second draft
        t = _HOLD.sub("", t)
        head, nl, last = t.rpartition("\n")
        if nl and _could_be_cut(last):
            t = head.rstrip()
        head, sep, tail = t.rpartition("\n\n")
        if (
            sep
            and any(op.startswith(tail.strip().lower()[: len(op)]) for op in _NOTE_OPENERS)
            and len(tail.strip()) < 40
        ):
            t = head.rstrip()
        return t

    def feed(self, piece: str) -> str:
        self.raw += piece
        stable = self._stable()
        if stable.startswith(self.shown) and len(stable) > len(self.shown):
            out, self.shown = stable[len(self.shown) :], stable
            return out
        return ""

    def finish(self) -> tuple[str, str]:
        """(text still to show, final clean text)."""
        final = clean_draft(self.raw)
        if final.startswith(self.shown):
            rest = final[len(self.shown) :]
        else:
            self.diverged, rest = True, ""
        self.shown = final if not self.diverged else self.shown
        return rest, final
