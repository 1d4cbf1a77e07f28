"""WritingService: exemplar retrieval from the profile's messages, prompt building, cleanup, streaming."""

from __future__ import annotations

import asyncio
import json

import pytest

from twin.backends.llm_fake import FakeLLM
from twin.errors import InvalidInput, TooLarge
from twin.ids import new_id
from twin.models.activate import activate
from twin.models.store import ModelRecord
from twin.models.store import save as save_model
from twin.profiles import ProfileManager
from twin.providers import registry
from twin.providers.llm import LLMOptions, TextDelta
from twin.settings import load_settings
from twin.store.db import connect
from twin.writing import Draft, WritingService, WritingSettings, load_writing_settings, update_writing_settings
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
    # the dataset's prompt family, with the style line measured from the owner's own messages
    assert system.startswith("You are the owner's writing twin. Write exactly as the owner would: short chat messages")
    assert "Return only the draft text, with no preface, notes or quotation marks." in system
    assert "\n---\n" + MINE[0] + "\n---\n" in system
    assert system.endswith("Style reference (write in this style):\nShort. Dry.") and len(found) == 4


class RecordingLLM(FakeLLM):
    """The fake backend, also keeping the options each request was sent with."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.options: list[LLMOptions] = []

    def _stream(self, messages, options):
        self.options.append(options)
        return super()._stream(messages, options)


def test_one_draft_per_request(profile) -> None:
    """Separators and turn markers are stop strings, and a second draft is cut even when a model ignores them."""
    reply = "Cheers Sam, the notes were spot on.\n---\nCheers Sam! Great notes.\n---\nThanks Sam"
    llm = RecordingLLM(replies=[reply])
    draft = WritingService(profile, llm=llm).draft_sync("thank sam")
    assert draft.text == "Cheers Sam, the notes were spot on."
    stop = llm.options[0].stop
    assert "\n---" in stop and "<|im_end|>" in stop and "<|eot_id|>" in stop and "\nUser:" in stop


def test_default_length_comes_from_the_owners_messages(profile) -> None:
    llm = RecordingLLM()
    svc = WritingService(profile, llm=llm)
    svc.draft_sync("thank sam")
    assert llm.options[-1].max_tokens == 48  # short chat messages: a short budget
    svc.draft_sync("thank sam", max_tokens=300)
    assert llm.options[-1].max_tokens == 300
    update_writing_settings(profile, ["max_tokens=120", "temperature=0.2"])
    WritingService(profile, llm=llm).draft_sync("thank sam")
    assert (llm.options[-1].max_tokens, llm.options[-1].temperature) == (120, 0.2)


def test_settings_live_in_the_profile(profile) -> None:
    assert load_writing_settings(profile) == WritingSettings()
    s = update_writing_settings(profile, ["exemplars=2", "channel=email", "style=dry and brief"])
    assert (s.exemplars, s.channel, s.style) == (2, "email", "dry and brief")
    assert json.loads((profile.root / "writing.json").read_text()) == {
        "exemplars": 2,
        "style": "dry and brief",
        "channel": "email",
    }
    svc = WritingService(profile, llm=registry.create("llm", "fake"))
    msgs, found = svc.messages("thank sam for the release")
    assert "dry and brief" in msgs[0].content and len(found) == 2
    assert update_writing_settings(profile, unset=["style"]).style is None
    with pytest.raises(InvalidInput, match="exemplars"):
        update_writing_settings(profile, ["exemplars=lots"])
    with pytest.raises(InvalidInput, match="not KEY=VALUE"):
        update_writing_settings(profile, ["colour=blue"])
    (profile.root / "writing.json").write_text('{"exemplars": 99}')
    with pytest.raises(InvalidInput, match="writing.json"):
        load_writing_settings(profile)


def _activate_trained(profile, tmp_path) -> dict[str, str]:
    """A trained model record and llm.json serving it, as `twin export --activate` leaves them."""
    base, lora = tmp_path / "base.gguf", tmp_path / "me-lora.gguf"
    base.write_bytes(b"GGUF"), lora.write_bytes(b"GGUF")
    prompts = {
        "chat": "You are Thota's writing twin. Write exactly as Thota would: very short chat messages.",
        "email": "You are Thota's writing twin. Write exactly as Thota would: short emails, signs off with Best.",
    }
    record = ModelRecord(
        name="me-writing",
        kind="lora",
        run="r1",
        base_gguf=str(base),
        adapter_gguf=str(lora),
        system_prompts=prompts,
        main_channel="chat",
    )
    save_model(profile, record)
    activate(profile, "me-writing")
    return prompts


def test_trained_model_drafts_with_its_training_prompt(profile, tmp_path) -> None:
    prompts = _activate_trained(profile, tmp_path)
    llm = RecordingLLM(replies=["ok sure"])
    svc = WritingService(profile, llm=llm)
    draft = svc.draft_sync("Draft a reply to my colleague thanking them for their help")
    assert llm.calls[-1][0].content == prompts["chat"]  # exactly the training prompt, no exemplars
    assert (draft.prompt, draft.active_model, draft.adapter) == ("trained", "me-writing", "me-lora.gguf")
    svc.draft_sync("Write an email to Dana about the budget")
    assert llm.calls[-1][0].content == prompts["email"]
    out = draft.to_dict()
    assert out["adapter"] == "me-lora.gguf" and out["active_model"] == "me-writing" and out["channel"] == "chat"
    # another model chosen for one request is not the trained one: its prompt is not used
    other = WritingService(profile, llm=llm, model=str(tmp_path / "base.gguf"), lora_path=None)
    assert other.record is not None  # same files: still the active model
    assert WritingService(profile, llm=llm, backend="fake").record is None


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
    assert set(out) == {
        "text",
        "model",
        "adapter",
        "active_model",
        "prompt",
        "channel",
        "finish_reason",
        "usage",
        "timings",
    }
    assert (out["adapter"], out["active_model"], out["prompt"]) == (None, None, "few-shot")
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
