"""SillyTavern Character Card V2 (spec: chara_card_v2, spec_version 2.0) import and export, as JSON or as
a PNG carrying the card as base64 JSON in a `chara` tEXt chunk. V1 cards (the same fields, not nested in
`data`) are read too. Validation is strict: size limits on the file, the JSON nesting and every field, and
unknown fields or `extensions` are kept (the spec forbids destroying them) but bounded.

The PNG chunk reader and writer are a few lines here: image libraries decode pixels to reach text chunks
stored after the image data (where SillyTavern writes them), and a hostile card must never be decoded."""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from twin.chat.personas import Persona, PersonaFields, validate_fields
from twin.errors import InvalidInput, TooLarge, UnsupportedFormat

MAX_CARD_BYTES = 2 * 1024**2
MAX_PNG_BYTES = 20 * 1024**2
MAX_DEPTH = 24
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TWIN_EXTENSION = "twin"
_V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
_V2_TEXT = ("creator_notes", "system_prompt", "post_history_instructions", "creator", "character_version")
_FIELD_LIMITS = {"name": 100, "first_mes": 4000, "creator_notes": 4000}
_DEFAULT_LIMIT = 16_000


def _bad(message: str) -> InvalidInput:
    return InvalidInput(
        f"Not a usable character card: {message}.", "Export the card again from its editor (V2 JSON or PNG)."
    )


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        raise _bad(f"its JSON is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level])
    return level


class CardData(BaseModel):
    """The fields of a V2 card's `data` this project reads (others are kept as they are)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(..., min_length=1, max_length=_FIELD_LIMITS["name"], pattern=r"\S")
    description: str = Field("", max_length=_DEFAULT_LIMIT)
    personality: str = Field("", max_length=_DEFAULT_LIMIT)
    scenario: str = Field("", max_length=_DEFAULT_LIMIT)
    first_mes: str = Field("", max_length=_FIELD_LIMITS["first_mes"])
    mes_example: str = Field("", max_length=_DEFAULT_LIMIT)
    creator_notes: str = Field("", max_length=_FIELD_LIMITS["creator_notes"])
    system_prompt: str = Field("", max_length=_DEFAULT_LIMIT)
    post_history_instructions: str = Field("", max_length=_DEFAULT_LIMIT)
    alternate_greetings: list[Annotated[str, Field(max_length=4000)]] = Field(default_factory=list, max_length=100)
    tags: list[Annotated[str, Field(max_length=4000)]] = Field(default_factory=list, max_length=200)
    creator: str = Field("", max_length=_DEFAULT_LIMIT)
    character_version: str = Field("", max_length=_DEFAULT_LIMIT)
    extensions: dict[str, Any] = Field(default_factory=dict)
    character_book: CharacterBook | None = None


class CharacterBook(BaseModel):
    model_config = ConfigDict(extra="allow")

    entries: list[dict[str, Any]] = Field(default_factory=list, max_length=2000)


class CardV2(BaseModel):
    """A Character Card V2 as JSON (spec chara_card_v2, spec_version 2.0)."""

    model_config = ConfigDict(extra="allow")

    spec: Literal["chara_card_v2"]
    spec_version: Literal["2.0"]
    data: CardData


def parse_card_json(raw: bytes) -> dict[str, Any]:
    """The card's `data` object (V1 cards are lifted into V2 shape), validated."""
    if len(raw) > MAX_CARD_BYTES:
        raise TooLarge(f"The card is {len(raw)} bytes; the limit is {MAX_CARD_BYTES}.", "Use a smaller card.")
    try:
        card = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise _bad("it is not UTF-8 JSON") from None
    if not isinstance(card, dict):
        raise _bad("the top level is not a JSON object")
    _depth(card)
    if "spec" in card:
        if card.get("spec") != "chara_card_v2":
            raise UnsupportedFormat(
                f"Character card spec '{str(card.get('spec'))[:40]}' is not supported.",
                "Export the card as Character Card V2 (chara_card_v2).",
            )
        if str(card.get("spec_version", "")) not in ("2.0", "2"):
            raise _bad(f"spec_version must be 2.0, not {str(card.get('spec_version'))[:20]}")
        data = card.get("data")
    else:
        data = {k: card[k] for k in card if k in _V1_FIELDS}
    if not isinstance(data, dict):
        raise _bad("`data` is not an object")
    return _checked(data)


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    for key in (*_V1_FIELDS, *_V2_TEXT):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise _bad(f"`{key}` must be a string")
        if "\x00" in value:
            data[key] = value = value.replace("\x00", "")
        limit = _FIELD_LIMITS.get(key, _DEFAULT_LIMIT)
        if len(value) > limit:
            raise TooLarge(f"The card's `{key}` is {len(value)} characters; the limit is {limit}.", "Shorten it.")
    if not str(data.get("name", "")).strip():
        raise _bad("it has no name")
    for key, limit in (("alternate_greetings", 100), ("tags", 200)):
        items = data.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and len(i) <= 4000 for i in items):
            raise _bad(f"`{key}` must be a list of strings")
        if len(items) > limit:
            raise TooLarge(f"The card has {len(items)} {key}; the limit is {limit}.", "Remove some.")
    if not isinstance(data.get("extensions", {}), dict):
        raise _bad("`extensions` must be an object")
    book = data.get("character_book")
    if book is not None and (not isinstance(book, dict) or not isinstance(book.get("entries", []), list)):
        raise _bad("`character_book` must be an object with a list of entries")
    if book is not None and len(book.get("entries", [])) > 2000:
        raise TooLarge("The card's lorebook has more than 2000 entries.", "Split or trim the lorebook.")
    return data


def card_to_fields(data: dict[str, Any]) -> PersonaFields:
    """Map card fields onto a persona; what has no persona field is kept in `card` for export."""
    ext = dict(data.get("extensions") or {})
    ours = ext.pop(TWIN_EXTENSION, {})
    ours = ours if isinstance(ours, dict) else {}
    examples = [e.strip() for e in re.split(r"<START>", str(data.get("mes_example", ""))) if e.strip()]
    known = {*_V1_FIELDS, "creator_notes", "extensions"}
    kept = {k: v for k, v in data.items() if k not in known}
    kept["extensions"] = ext
    for key in ("personality", "scenario"):
        if data.get(key):
            kept[key] = data[key]
    fields: dict[str, Any] = {
        "display_name": str(data["name"]).strip(),
        "description": str(data.get("creator_notes", "")),
        "prompt": str(data.get("description", "")),
        "greeting": str(data.get("first_mes", "")),
        "examples": examples[:20],
        "card": kept,
    }
    for key in ("style_rules", "boundaries", "voice_id", "memory_policy", "do_not_store"):
        if key in ours:
            fields[key] = ours[key]
    return validate_fields(fields)


def persona_to_card(persona: Persona) -> dict[str, Any]:
    """A Character Card V2 other tools read; twin-only fields ride in extensions.twin."""
    kept = dict(persona.card)
    ext = dict(kept.pop("extensions", {}) or {})
    ext[TWIN_EXTENSION] = {
        "name": persona.name,
        "style_rules": persona.style_rules,
        "boundaries": persona.boundaries,
        "voice_id": persona.voice_id,
        "memory_policy": persona.memory_policy,
        "do_not_store": persona.do_not_store,
    }
    data: dict[str, Any] = {
        "name": persona.label(),
        "description": persona.prompt,
        "personality": kept.pop("personality", ""),
        "scenario": kept.pop("scenario", ""),
        "first_mes": persona.greeting,
        "mes_example": "\n".join(f"<START>\n{e}" for e in persona.examples),
        "creator_notes": persona.description,
        "system_prompt": kept.pop("system_prompt", ""),
        "post_history_instructions": kept.pop("post_history_instructions", ""),
        "alternate_greetings": kept.pop("alternate_greetings", []),
        "tags": kept.pop("tags", []),
        "creator": kept.pop("creator", ""),
        "character_version": kept.pop("character_version", ""),
        "extensions": ext,
    }
    data.update(kept)  # character_book and any field this version does not know
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}


# ---- PNG ------------------------------------------------------------------------------------


def png_text_chunks(raw: bytes) -> dict[str, bytes]:
    """tEXt chunks of a PNG (keyword -> latin-1 bytes), checking structure and CRCs; pixels untouched."""
    if len(raw) > MAX_PNG_BYTES:
        raise TooLarge(f"The PNG is {len(raw)} bytes; the limit is {MAX_PNG_BYTES}.", "Use a smaller card image.")
    if not raw.startswith(PNG_SIGNATURE):
        raise UnsupportedFormat("The file is not a PNG.", "Give a card as .json or as .png with a chara chunk.")
    pos, out = len(PNG_SIGNATURE), {}
    while pos + 12 <= len(raw):
        length, ctype = struct.unpack(">I4s", raw[pos : pos + 8])
        end = pos + 12 + length
        if end > len(raw) or not ctype.isalpha():
            raise _bad("its PNG chunks are truncated or malformed")
        body = raw[pos + 8 : pos + 8 + length]
        if zlib.crc32(ctype + body) != struct.unpack(">I", raw[end - 4 : end])[0]:
            raise _bad(f"the PNG chunk {ctype.decode('latin-1')} fails its CRC check")
        if ctype == b"tEXt" and b"\x00" in body:
            key, _, value = body.partition(b"\x00")
            out[key.decode("latin-1")] = value
        if ctype == b"IEND":
            return out
        pos = end
    raise _bad("the PNG has no IEND chunk")


def read_card(path: Path) -> dict[str, Any]:
    """Card data from a .json file or a .png with a `chara` chunk."""
    size = path.stat().st_size
    if size > MAX_PNG_BYTES:
        raise TooLarge(f"{path.name} is {size} bytes; the limit is {MAX_PNG_BYTES}.", "Use a smaller card.")
    raw = path.read_bytes()
    if not raw.startswith(PNG_SIGNATURE):
        return parse_card_json(raw)
    chunks = png_text_chunks(raw)
    if "chara" not in chunks:
        hint = "This looks like a V3 card (ccv3 chunk); export it as V2." if "ccv3" in chunks else ""
        raise _bad("the PNG has no `chara` text chunk" + (f" ({hint})" if hint else ""))
    try:
        decoded = base64.b64decode(chunks["chara"], validate=True)
    except (binascii.Error, ValueError):
        raise _bad("its `chara` chunk is not base64") from None
    return parse_card_json(decoded)


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def card_png(card: dict[str, Any], size: int = 256, rgb: tuple[int, int, int] = (72, 96, 140)) -> bytes:
    """A plain square PNG with the card in a `chara` tEXt chunk (base64 of the UTF-8 JSON)."""
    row = b"\x00" + bytes(rgb) * size
    idat = zlib.compress(row * size, 9)
    text = b"chara\x00" + base64.b64encode(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"tEXt", text) + _chunk(b"IEND", b"")
