"""Which parser reads which format (imported lazily)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

from twin.errors import UnsupportedFormat
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source

Parser = Callable[[Source], Iterator[ParsedMessage | Skipped]]

_PARSERS = {
    "whatsapp": "twin.ingest.whatsapp:parse",
    "mbox": "twin.ingest.email.mbox:parse",
    "eml": "twin.ingest.email.eml:parse",
    "maildir": "twin.ingest.email.eml:parse",
    "msg": "twin.ingest.email.outlook:parse_msg",
    "pst": "twin.ingest.email.outlook:parse_pst",
    "srt": "twin.ingest.subtitles:parse",
    "vtt": "twin.ingest.subtitles:parse",
}


def parser_for(fmt: str) -> Parser:
    if fmt not in _PARSERS:
        raise UnsupportedFormat(f"No parser for format '{fmt}'.", f"Known formats: {', '.join(sorted(_PARSERS))}.")
    module, _, attr = _PARSERS[fmt].partition(":")
    return getattr(importlib.import_module(module), attr)
