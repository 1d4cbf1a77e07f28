"""Personas in the store, the default twin, and Character Card V2 import/export (JSON and PNG) with
hostile cards refused clearly."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

import pytest

from twin.chat.cards import card_png, card_to_fields, parse_card_json, persona_to_card, png_text_chunks, read_card
from twin.chat.personas import PersonaStore, validate_fields
from twin.errors import AlreadyExists, InvalidInput, NotFound, TooLarge, UnsupportedFormat
from twin.store.db import connect

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Seraphina",
        "description": "{{char}} is a forest guardian who protects {{user}}.",
        "personality": "gentle, wise",
        "scenario": "A quiet glade.",
        "first_mes": "Welcome, traveller.",
        "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Hello there.\n"
        "<START>\n{{user}}: Who are you?\n{{char}}: A guardian.",
        "creator_notes": "Made for testing.",
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": ["Oh, hello."],
        "character_book": {
            "entries": [{"keys": ["glade"], "content": "The glade is old.", "extensions": {}}],
            "extensions": {},
        },
        "tags": ["fantasy"],
        "creator": "someone",
        "character_version": "1.1",
        "extensions": {"talkativeness": "0.5", "other/tool": {"x": 1}},
    },
}


def _store(profile) -> PersonaStore:
    return PersonaStore(connect(profile))


def test_default_twin_always_exists_and_cannot_be_deleted(profile) -> None:
    store = _store(profile)
    assert [p.name for p in store.list()] == ["twin"]
    assert store.get(None).builtin
    with pytest.raises(InvalidInput):
        store.delete("twin")
    assert _store(profile).get("twin").id == store.get("twin").id  # not recreated


def test_crud_and_validation(profile) -> None:
    store = _store(profile)
    p = store.create(
        "coach", validate_fields({"display_name": "Coach", "prompt": "You motivate.", "style_rules": ["short"]})
    )
    with pytest.raises(AlreadyExists):
        store.create("coach", validate_fields({}))
    for bad in ("Coach", "../x", "", "a" * 64):
        with pytest.raises(InvalidInput):
            store.create(bad, validate_fields({}))
    with pytest.raises(InvalidInput):
        validate_fields({"prompt": "x" * 20_000})
    with pytest.raises(InvalidInput):
        validate_fields({"memory_policy": "sometimes"})
    changed = store.update("coach", {"greeting": "Let's go!", "memory_policy": "off"})
    assert (changed.greeting, changed.memory_policy, changed.style_rules) == ("Let's go!", "off", ["short"])
    with pytest.raises(InvalidInput):
        store.update("coach", {"nope": 1})
    assert store.get(p.id).name == "coach"
    store.delete("coach")
    with pytest.raises(NotFound):
        store.get("coach")


def test_card_json_round_trip_keeps_unknown_fields(profile, tmp_path: Path) -> None:
    src = tmp_path / "card.json"
    src.write_text(json.dumps(CARD))
    fields = card_to_fields(read_card(src))
    assert fields.display_name == "Seraphina" and fields.greeting == "Welcome, traveller."
    assert len(fields.examples) == 2 and fields.description == "Made for testing."
    persona = _store(profile).create("seraphina", fields)
    card = persona_to_card(persona)
    data = card["data"]
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    for key in ("name", "description", "personality", "scenario", "first_mes", "alternate_greetings", "tags"):
        assert data[key] == CARD["data"][key], key
    assert data["character_book"] == CARD["data"]["character_book"]
    assert data["extensions"]["other/tool"] == {"x": 1} and data["extensions"]["talkativeness"] == "0.5"
    assert data["extensions"]["twin"]["memory_policy"] == "strict"
    assert "<START>" in data["mes_example"]


def test_card_png_round_trip(profile, tmp_path: Path) -> None:
    png = tmp_path / "card.png"
    png.write_bytes(card_png(CARD))
    assert set(png_text_chunks(png.read_bytes())) == {"chara"}
    assert read_card(png)["name"] == "Seraphina"


def test_v1_card_is_read() -> None:
    v1 = {k: CARD["data"][k] for k in ("name", "description", "personality", "scenario", "first_mes", "mes_example")}
    assert card_to_fields(parse_card_json(json.dumps(v1).encode())).display_name == "Seraphina"


def _chunk(ctype: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(ctype + body) if crc is None else crc
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"not json", InvalidInput),
        (json.dumps([1, 2]).encode(), InvalidInput),
        (json.dumps({"spec": "chara_card_v3", "data": {}}).encode(), UnsupportedFormat),
        (json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": ""}}).encode(), InvalidInput),
        (
            json.dumps(
                {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "x", "description": 5}}
            ).encode(),
            InvalidInput,
        ),
        (
            json.dumps(
                {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "x", "first_mes": "y" * 5000}}
            ).encode(),
            TooLarge,
        ),
        (
            b'{"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "x", "extensions": {"a": '
            + b"[" * 40
            + b"]" * 40
            + b"}}}",
            InvalidInput,
        ),
        (b"{" + b" " * (3 * 1024**2) + b"}", TooLarge),
    ],
)
def test_hostile_json_cards(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as exc:
        parse_card_json(raw)
    assert exc.value.hint  # type: ignore[attr-defined]


def test_hostile_png_cards(tmp_path: Path) -> None:
    sig = b"\x89PNG\r\n\x1a\n"
    cases = {
        "bad-crc.png": sig + _chunk(b"tEXt", b"chara\x00e30=", crc=1) + _chunk(b"IEND", b""),
        "truncated.png": sig + struct.pack(">I", 1000) + b"tEXt" + b"abc",
        "no-chara.png": sig + _chunk(b"tEXt", b"comment\x00hi") + _chunk(b"IEND", b""),
        "not-b64.png": sig + _chunk(b"tEXt", b"chara\x00!!!") + _chunk(b"IEND", b""),
        "v3-only.png": sig + _chunk(b"tEXt", b"ccv3\x00" + base64.b64encode(b"{}")) + _chunk(b"IEND", b""),
        "no-iend.png": sig + _chunk(b"tEXt", b"chara\x00e30="),
    }
    for name, raw in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(InvalidInput) as exc:
            read_card(path)
        assert "card" in exc.value.message, name
    (tmp_path / "huge.png").write_bytes(sig + b"\x00" * (21 * 1024**2))
    with pytest.raises(TooLarge):
        read_card(tmp_path / "huge.png")
