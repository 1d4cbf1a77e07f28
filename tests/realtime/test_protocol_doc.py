"""docs/realtime-protocol.md matches the server: every message type has a JSON example, client examples
parse, server examples carry exactly the fields the server sends."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from twin.realtime import events
from twin.realtime.events import parse_client

DOC = Path(__file__).resolve().parents[2] / "docs" / "realtime-protocol.md"
SERVER = {
    cls.type: cls
    for cls in vars(events).values()
    if isinstance(cls, type) and issubclass(cls, events.ServerEvent) and cls is not events.ServerEvent
}
CLIENT = {"hello", "end", "cancel", "audio_frame", "playback"}


def examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [json.loads(line) for block in blocks for line in block.strip().splitlines()]


def test_every_message_has_an_example_that_matches() -> None:
    found = {str(e["type"]) for e in examples()}
    assert found >= CLIENT
    assert set(SERVER) <= found
    for example in examples():
        kind = str(example["type"])
        if kind in CLIENT:
            assert parse_client(json.dumps(example)).type == kind
        elif kind in SERVER:
            fields = {"type", *(f.name for f in dataclasses.fields(SERVER[kind]))}
            if kind == "tts_audio":
                fields = (fields - {"pcm"}) | {"duration_ms"} | ({"audio"} if "audio" in example else {"bytes"})
            assert set(example) == fields, kind
