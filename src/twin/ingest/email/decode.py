"""Charset and header decoding that never raises: wrong, unknown or missing charsets fall back to
UTF-8, then to Windows-1252 (every byte maps), so no message is lost to a bad label."""

from __future__ import annotations

import codecs
import re
from email.header import decode_header

# Labels seen in real mail that Python does not know, or knows as a narrower charset than senders use.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "windows-31j": "cp932",
    "x-user-defined": "cp1252",
    "unicode-1-1-utf-7": "utf-7",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "iso-2022-jp": "iso2022_jp_ext",
}
_NO_CHARSET = {"", "unknown", "unknown-8bit", "x-unknown", "default", "charset", "8bit", "none"}


def codec_for(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when the label is absent or unknown."""
    if not label:
        return None
    name = label.strip().strip('"').strip("'").lower()
    if name in _NO_CHARSET:
        return None
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, label: str | None) -> str:
    """Decode a body with its declared charset; fall back to UTF-8 (tolerating a few broken sequences),
    then to the declared charset with replacements, then to Windows-1252 (every byte maps)."""
    codec = codec_for(label)
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad * 20 < sum(1 for ch in text if ord(ch) > 127):
        return text
    if codec is not None and codec != "utf-8":
        return data.decode(codec, errors="replace")
    return data.decode("cp1252", errors="replace")


def fix_surrogates(text: str, label: str | None = None) -> str:
    """Headers with raw 8-bit bytes come back from the parser as surrogate escapes: re-decode them."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
        return decode_bytes(raw, label)


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_FOLD = re.compile(r"\r?\n[ \t]*")


def unfold(raw: str) -> str:
    return _FOLD.sub(" ", raw).strip()


def decode_header_value(raw: str | None, label: str | None = None) -> str:
    """A raw header value (as in the file) → text: unfolded, RFC 2047 words decoded with the same
    charset fallbacks as bodies, raw 8-bit bytes re-decoded; never raises."""
    if raw is None:
        return ""
    text = fix_surrogates(unfold(str(raw)), label)
    if "=?" in text and _ENCODED_WORD.search(text):
        text = _decode_words(text)
    return " ".join(text.split())


def _decode_words(text: str) -> str:
    try:
        chunks = decode_header(text)
    except Exception:  # noqa: BLE001 - malformed encoded words: keep the raw text
        return text
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset) if charset else decode_bytes(chunk, "utf-8"))
        else:
            out.append(chunk)
    return "".join(out)
