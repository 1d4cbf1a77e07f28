"""Which parser reads which format (imported lazily)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Protocol

from twin.errors import UnsupportedFormat
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source
from twin.settings import IngestLimits


class Parser(Protocol):
    """Reads one source; lines and messages beyond the limits are skipped with a reason, never held whole."""

    def __call__(self, source: Source, limits: IngestLimits | None = None, /) -> Iterator[ParsedMessage | Skipped]: ...


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
    parser: Parser = getattr(importlib.import_module(module), attr)
    return parser
