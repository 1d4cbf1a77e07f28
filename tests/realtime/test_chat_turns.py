"""A voice turn is a chat turn: the session answers through the chat service (persona, memory, stored
conversation). Scripted VAD/STT/TTS, the fake LLM, the real chat service, store and memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("twin.chat.service")

from tests.realtime.driver import Driver  # noqa: E402
from tests.realtime.fakes import LoudVAD, ScriptedSTT, ToneSpeaker, silence, speech  # noqa: E402

from twin.chat.service import ChatService  # noqa: E402
from twin.profiles import Profile, ProfileManager  # noqa: E402
from twin.providers import registry  # noqa: E402
from twin.realtime.config import RealtimeConfig  # noqa: E402
from twin.realtime.engines import ChatReplier  # noqa: E402
from twin.realtime.events import Hello  # noqa: E402
from twin.realtime.ports import Engines  # noqa: E402
from twin.settings import load_settings  # noqa: E402

pytestmark = pytest.mark.timeout(120)
CFG = RealtimeConfig(partial_every_s=0.3)
LONG = "One two three four five. Six seven eight nine ten. Eleven twelve thirteen fourteen fifteen."


@pytest.fixture
def profile(twin_home: Path) -> Profile:
    return ProfileManager(load_settings()).create("talker")


@pytest.fixture
def chat(profile: Profile) -> Iterator[ChatService]:
    llm = registry.create("llm", "fake", replies=[LONG, "Okay."], delay_s=0.005)
    service = ChatService(profile, llm=llm)
    yield service
    service.close()


def engines(chat: ChatService, stt: ScriptedSTT, conversation: str | None = None) -> Engines:
    return Engines(LoudVAD(), stt, ChatReplier(chat, "twin", conversation, CFG), ToneSpeaker())


async def test_voice_turns_are_stored_like_typed_ones(chat: ChatService, profile: Profile) -> None:
    stt = ScriptedSTT("My sister is called Ana.")
    async with Driver(engines(chat, stt), CFG) as d:
        await d.hello()
        await d.feed(speech(1.0))
        await d.feed(silence(0.8))
        done = (await d.wait_for("done")).event
        message = d.of("assistant_message")[0].event
        await d.feed(silence(sum(a.duration_ms for a in d.audio()) / 1000 + 0.2))  # the reply plays out
    await chat.drain()
    conversation = done.conversation_id  # type: ignore[attr-defined]
    assert conversation and message.conversation_id == conversation  # type: ignore[attr-defined]
    turns = chat.conversations.turns(conversation)
    assert [(t.role, t.text) for t in turns] == [("user", "My sister is called Ana."), ("assistant", LONG)]
    assert message.message_id == turns[1].id  # type: ignore[attr-defined]
    # as the user sees it from the command line
    from twin.cli.main import app

    out = CliRunner().invoke(app, ["conversation", "show", conversation, "--profile", profile.name, "--json"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.stdout)
    assert [t["text"] for t in shown["turns"]][0] == "My sister is called Ana."
    # and memory learned from it like from a typed turn
    facts = [m.text for m in chat.memory.store.iter_all()]
    assert any("Ana" in f for f in facts), facts


async def test_barge_in_stores_what_was_heard_and_the_next_prompt_says_so(chat: ChatService) -> None:
    stt = ScriptedSTT("Tell me a long story.")
    async with Driver(engines(chat, stt), CFG) as d:
        await d.hello()
        await d.feed(speech(1.0))
        await d.feed(silence(0.8))
        await d.wait_for("tts_audio")
        await d.feed(silence(1.2))  # part of the reply plays
        await d.feed(speech(0.6, pitch=240))  # the user cuts in
        interrupted = (await d.wait_for("interrupted")).event
        heard = interrupted.delivered_text  # type: ignore[attr-defined]
        assert heard and len(heard) < len(LONG)
        stt.text = "Sorry, go on."
        await d.feed(silence(0.8))
        await d.wait_for("done", 2)
        await d.until(lambda: len(d.of("assistant_message")) >= 1)
    await chat.drain()
    conversation = d.of("done")[-1].event.conversation_id  # type: ignore[attr-defined]
    turns = chat.conversations.turns(conversation)
    cut = [t for t in turns if t.role == "assistant"][0]
    assert cut.text == heard and cut.interrupted
    last_prompt = chat._llm.calls[-1]  # type: ignore[union-attr]
    assert "cut off" in last_prompt[-1].content


async def test_hello_with_an_unknown_persona_or_conversation_fails_early(chat: ChatService, profile: Profile) -> None:
    from twin.errors import TwinError
    from twin.realtime.engines import _check_names

    with pytest.raises(TwinError):
        _check_names(chat, Hello(type="hello", sample_rate=16000, persona="nobody"))
    with pytest.raises(TwinError):
        _check_names(
            chat, Hello(type="hello", sample_rate=16000, conversation_id="0190a3c2-7b1e-7cc1-9f2a-3b4c5d6e7f80")
        )


def test_the_voice_loop_speaks_with_the_personas_own_voice(chat: ChatService) -> None:
    from twin.api.demo import demo_dir
    from twin.chat.personas import PersonaFields
    from twin.errors import NotFound
    from twin.realtime.config import RealtimeConfig
    from twin.realtime.engines import SynthSpeaker
    from twin.voice.profiles import create_voice
    from twin.voice.synth.synthesizer import Synthesizer

    profile = chat.profile
    owner = create_voice(profile, reference=demo_dir() / "voice" / "sample.wav")  # the default voice
    ann = create_voice(profile, name="Ann", reference=demo_dir() / "voice" / "sample.wav")
    chat.personas.create("ann", PersonaFields(display_name="Ann", voice_id=ann.id))
    synth, config = Synthesizer(profile), RealtimeConfig(memory=False)
    assert SynthSpeaker(synth, config, chat.personas.get("ann").voice_id).voice_id == ann.id
    assert SynthSpeaker(synth, config, None).voice_id == owner.id
    # realtime.json's voice wins; a persona voice deleted since falls back to the default voice
    assert SynthSpeaker(synth, RealtimeConfig(voice_id=owner.id), ann.id).voice_id == owner.id
    gone = "0190a3c2-7b1e-7cc1-9f2a-3b4c5d6e7f80"
    assert SynthSpeaker(synth, config, gone).voice_id == owner.id
    with pytest.raises(NotFound):
        SynthSpeaker(synth, RealtimeConfig(voice_id=gone), None)
