"""WritingService: exemplar retrieval from the profile's messages, prompt building, cleanup, streaming."""

from __future__ import annotations

import asyncio
import json

import pytest

from twin.errors import InvalidInput, TooLarge
from twin.ids import new_id
from twin.profiles import ProfileManager
from twin.providers import registry
from twin.providers.llm import TextDelta
from twin.settings import load_settings
from twin.store.db import connect
from twin.writing import Draft, WritingService, WritingSettings
from twin.writing.exemplars import find_exemplars, fts_query

MINE = [
    "Cheers for sorting the release notes, saved me an evening. Beer's on me.",
    "Release is out. Two bugs, both mine, both fixed. Moving on.",
    "Can't make Thursday. Friday works, bring the spreadsheet.",
    "Garden looks great after the rain, tomatoes finally turning red this week.",
]


def _add(conn, text, me=1, kind="text", flags="[]", seq=0):
    conn.execute(
        "INSERT INTO messages (id, fingerprint, source, source_sha256, locator, format, conversation_id, seq, "
        "sender, sender_is_me, timestamp, text, kind, flags) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            new_id(),
            new_id(),
            "f.txt",
            "0" * 64,
            str(seq),
            "whatsapp",
            "c1",
            seq,
            "me" if me else "them",
            me,
            f"2024-01-01T00:00:{seq:02d}",
            text,
            kind,
            flags,
        ),
    )


@pytest.fixture
def profile(tmp_path, monkeypatch):
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    p = ProfileManager(load_settings()).create("me")
    conn = connect(p)
    for i, t in enumerate(MINE):
        _add(conn, t, seq=i)
    _add(conn, "Release party tonight? The release team is buying release cake.", me=0, seq=10)
    _add(conn, "Release release release notes forwarded to everyone on the list.", flags='["list"]', seq=11)
    _add(conn, "<media omitted> release", kind="media", seq=12)
    conn.commit()
    conn.close()
    return p


def test_bm25_picks_related_own_messages(profile) -> None:
    conn = connect(profile)
    found = find_exemplars(conn, "Thank Sam for the release notes", k=2)
    assert [e.text for e in found] == MINE[:2]
    # only the owner's unflagged text messages ever come back, and recent ones fill up
    all_found = [e.text for e in find_exemplars(conn, "release", k=10)]
    assert sorted(all_found) == sorted(MINE)
    conn.execute("DELETE FROM messages WHERE text = ?", (MINE[0],))
    conn.execute("UPDATE messages SET text = 'Tomato release party at mine on Sunday' WHERE text = ?", (MINE[3],))
    assert [e.text for e in find_exemplars(conn, "tomato", k=1)] == ["Tomato release party at mine on Sunday"]
    conn.close()


def test_fts_query_is_safe() -> None:
    assert fts_query('draft "NEAR(a b)" OR AND* the colleague') == '"near" OR "colleague"'
    assert fts_query("hi ok") == ""


def test_messages_carry_style_prompt_exemplars_and_reference(profile) -> None:
    svc = WritingService(profile, llm=registry.create("llm", "fake"))
    msgs, found = svc.messages("Thank Sam for the release notes", style_reference="Short. Dry.")
    system = msgs[0].content
    assert msgs[0].role == "system" and msgs[1].content == "Thank Sam for the release notes"
    assert "Return only the draft text" in system and "[DRAFT]" in system
    assert MINE[0] in system and "Short. Dry." in system and len(found) == 4


def test_draft_is_cleaned_and_streamed(profile) -> None:
    reply = "Sure! Here's a draft:\n\n[DRAFT]\nCheers Sam, the notes were spot on.\n[/DRAFT]\n\nFeel free to edit."
    svc = WritingService(profile, WritingSettings(exemplars=2), llm=registry.create("llm", "fake", replies=[reply]))

    async def go():
        return [i async for i in svc.stream_draft("thank sam", max_tokens=64, temperature=0.2)]

    items = asyncio.run(go())
    final = items[-1]
    assert isinstance(final, Draft)
    assert final.text == "Cheers Sam, the notes were spot on."
    assert "".join(i.text for i in items if isinstance(i, TextDelta)) == final.text
    assert final.raw_text == reply and len(final.exemplar_ids) == 2
    out = final.to_dict()
    assert set(out) == {"text", "model", "usage", "timings"}
    assert set(out["usage"]) == {"prompt_tokens", "completion_tokens"}
    assert set(out["timings"]) == {"first_token_s", "tokens_per_s", "total_s"}
    json.dumps(out)


def test_bad_requests(profile) -> None:
    svc = WritingService(profile, WritingSettings(max_prompt_chars=100), llm=registry.create("llm", "fake"))
    with pytest.raises(InvalidInput):
        svc.draft_sync("   ")
    with pytest.raises(TooLarge):
        svc.draft_sync("x" * 101)
    with pytest.raises(ValueError):
        svc.draft_sync("hi", temprature=1)


def test_without_profile_or_messages(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    empty = ProfileManager(load_settings()).create("empty")
    for p in (None, empty):
        d = WritingService(p, llm=registry.create("llm", "fake", replies=["Done."])).draft_sync("x")
        assert d.text == "Done." and d.exemplar_ids == []
