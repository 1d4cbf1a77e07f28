"""Reply text only: strip quoted replies, forwarded content and signatures from a plain-text body.

Written here rather than taken from a library: talon (the best-known one) was last released in 2017
and pins old lxml/scikit-learn/cchardet; mail-parser-reply strips every line's indentation, treats
"Best regards" as a signature (deleting the owner's own sign-off, which is part of their style) and
rebuilds its regexes per message. The rules below are line-based, compiled once and linear in the
body size (no backtracking-prone patterns), so a pathological body stays fast."""

from __future__ import annotations

import re
from dataclasses import dataclass

from twin.ingest.email.html import html_to_text

# "-----Original Message-----" in the languages Outlook ships.
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|original nachricht|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|"
    r"oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti|původní zpráva|"
    r"wiadomość oryginalna|исходное сообщение|mensagem original|eredeti üzenet)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(-{3,}\s*(forwarded message|weitergeleitete nachricht|mensaje reenviado|message transféré|"
    r"messaggio inoltrato|doorgestuurd bericht|vidarebefordrat meddelande|videresendt meddelelse|"
    r"mensagem encaminhada|пересылаемое сообщение|wiadomość przekazana dalej)\s*-{3,}|"
    r"begin forwarded message:|anfang der weitergeleiteten nachricht:|début du message réexpédié\s*:|"
    r"inicio del mensaje reenviado:)\s*$",
    re.IGNORECASE,
)
_FROM_FIELD = r"(from|von|de|da|van|från|fra|od|от|lähettäjä|feladó|remetente)"
_OTHER_FIELD = (
    r"(sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|enviado|fecha|para|"
    r"asunto|inviato|data|a|oggetto|verzonden|aan|onderwerp|skickat|till|ämne|sendt|til|emne|"
    r"wysłano|do|temat|отправлено|кому|тема|enviada|assunto|reply-to)"
)
_HEADER_FROM = re.compile(rf"^\s*\*?{_FROM_FIELD}\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_ANY = re.compile(rf"^\s*\*?({_FROM_FIELD}|{_OTHER_FIELD})\s*:\*?(\s|$)", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_LIST_FOOTER = re.compile(r"mailing list\s*$|^\s*to unsubscribe", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>")
_ON_START = re.compile(r"^\s*(on|am|le|el|il|op|den|på|w dniu|dne|в|em|el día|il giorno)\s", re.IGNORECASE)
_WROTE = re.compile(
    r"(wrote|writes|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napisał\(a\)|napisał|napsal\(a\)|"
    r"napsal|написал\(а\)|написал|kirjoitti|escreveu|írta)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION = re.compile(r"(@|\d{1,2}:\d{2}|\d{4}).*:\s*$")
_DATE_OR_ADDR = re.compile(r"\d{1,2}:\d{2}|\d{4}|@\S+\.")
_SIG_DELIM = re.compile(r"^--\s?$")
_DEVICE = re.compile(
    r"^\s*(sent from my |sent from (outlook|mail|yahoo mail|samsung|gmail|proton ?mail)\b|sent with |"
    r"sent via |sent using |get outlook for |von meinem .{1,30} gesendet|gesendet von |"
    r"envoyé de mon |envoyé depuis |enviado desde mi |enviado do meu |enviado de mi |inviato da |"
    r"verzonden met |verstuurd vanaf |skickat från |sendt fra |lähetetty )"
    r"[\w .'’()<>:/\-]{0,50}$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*([-_=*~]\s*){3,}$")
_BLANK_RUN = re.compile(r"\n\s*\n(\s*\n)+")


@dataclass(slots=True)
class Cleaned:
    text: str
    forwarded: bool = False  # the body forwards someone else's message
    quoted: bool = False  # quoted reply text was removed


def clean_body(plain: str | None, html: str | None) -> Cleaned:
    """The reply text of a message body: text/plain preferred, HTML converted when it is all there is."""
    text = plain if plain is not None and plain.strip() else (html_to_text(html) if html else "")
    return clean_text(text)


def clean_text(text: str) -> Cleaned:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines, forwarded, cut = _cut_hard(lines)
    lines, quoted = _drop_quotes(lines)
    lines = _strip_signature(lines)
    while lines and (not lines[-1].strip() or _RULE.match(lines[-1])):
        lines.pop()
    out = _BLANK_RUN.sub("\n\n", "\n".join(line.rstrip() for line in lines)).strip("\n")
    return Cleaned(text=out.strip(), forwarded=forwarded, quoted=quoted or cut)


def strip_quotes(text: str) -> str:
    """Quoted replies and forwarded content removed, signatures kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines, _, _ = _cut_hard(lines)
    lines, _ = _drop_quotes(lines)
    return _BLANK_RUN.sub("\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def _cut_hard(lines: list[str]) -> tuple[list[str], bool, bool]:
    """Cut at the first separator after which everything is someone else's text."""
    for i, line in enumerate(lines):
        if not line or len(line) > 200:
            continue
        if _FORWARD.match(line):
            return lines[:i], True, False
        if _ORIGINAL.match(line) or _is_header_block(lines, i):
            return lines[:i], False, True
        if _UNDERSCORES.match(line) and _separator_before_block(lines, i):
            return lines[:i], False, True
    return lines, False, False


def _separator_before_block(lines: list[str], i: int) -> bool:
    following = [ln for ln in lines[i + 1 : i + 4] if ln.strip()]
    if not following:
        return False
    return bool(_HEADER_ANY.match(following[0]) or _LIST_FOOTER.search(following[0]))


def _is_header_block(lines: list[str], i: int) -> bool:
    """An Outlook-style quoted header: a From: line with 1+ other header fields right around it."""
    if not _HEADER_ANY.match(lines[i]):
        return False
    block = [lines[i]]
    for line in lines[i + 1 : i + 6]:
        if not line.strip():
            if len(block) > 1:
                break
            continue
        if not _HEADER_ANY.match(line):
            break
        block.append(line)
    if len(block) < 2:
        return False
    return any(_HEADER_FROM.match(ln) for ln in block) and (len(block) >= 3 or bool(_HEADER_FROM.match(block[0])))


def _drop_quotes(lines: list[str]) -> tuple[list[str], bool]:
    """Drop '>' blocks and their attribution lines; an attribution not followed by a '>' block (the
    original pasted unmarked) cuts everything after it."""
    out: list[str] = []
    quoted = False
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if _QUOTED.match(line):
            quoted = True
            _pop_attribution(out)
            i += 1
            continue
        span = _attribution_span(lines, i)
        if span:
            nxt = _next_nonblank(lines, i + span)
            if nxt is None or not _QUOTED.match(lines[nxt]):
                return out, True
            i += span
            quoted = True
            continue
        out.append(line)
        i += 1
    return out, quoted


def _attribution_span(lines: list[str], i: int) -> int:
    """1-3 when lines[i] (alone or joined with up to two more lines) reads "On … wrote:"; 0 otherwise."""
    line = lines[i]
    if not line or len(line) > 300 or not _ON_START.match(line):
        return 0
    for span in range(1, 4):
        last = lines[i + span - 1] if i + span - 1 < len(lines) else ""
        if not last.strip() or len(last) > 200:
            return 0
        if _WROTE.search(last):
            return span
    return 0


def _pop_attribution(out: list[str]) -> None:
    """Remove the attribution line(s) just above a quote block ("… <a@b.c> wrote:", "2014-06-26 … :"),
    including an "On …" line wrapped over up to three lines."""
    j = len(out) - 1
    while j >= 0 and not out[j].strip():
        j -= 1
    if j < 0:
        return
    last = out[j].strip()
    if not (last.endswith(":") and len(last) < 300 and (_WROTE.search(last) or _ATTRIBUTION.search(last))):
        return
    start = j
    for k in range(j - 1, max(-1, j - 3), -1):
        prev = out[k]
        if not prev.strip() or len(prev) > 200:
            break
        if _ON_START.match(prev):
            start = k
            break
        if _DATE_OR_ADDR.search(prev) and k == j - 1:
            start = k
    del out[start:]


def _next_nonblank(lines: list[str], i: int) -> int | None:
    while i < len(lines):
        if lines[i].strip():
            return i
        i += 1
    return None


def _strip_signature(lines: list[str]) -> list[str]:
    """Cut at the last '-- ' delimiter (when what follows is short) and at device sign-offs near the end."""
    n = len(lines)
    for i in range(n - 1, max(-1, n - 16), -1):
        if _SIG_DELIM.match(lines[i]):
            return lines[:i]
    tail_start = max(0, n - 6)
    for i in range(tail_start, n):
        if _DEVICE.match(lines[i]):
            return lines[:i]
    return lines
