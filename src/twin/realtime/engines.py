"""The real engines of a voice session: the VAD and STT from the registry (kept warm for the process),
the profile's chat service as the replier (so a voice turn is a chat turn: persona, memory, stored
conversation) and the profile's synthesizer speaking the reply clause by clause."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from twin.errors import MissingDependency, NotFound
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.llm import LLMOptions, TextDelta
from twin.providers.stt import STT
from twin.providers.vad import VAD
from twin.realtime.config import RealtimeConfig, load_realtime_config
from twin.realtime.events import Hello
from twin.realtime.ports import Engines, ReplyDone, SpokenClause
from twin.settings import Settings
from twin.voice.synth.synthesizer import Synthesizer
from twin.voice.synth.text_stream import SpeakOptions, TextStreamSpeaker
from twin.voice.synth.voices import choose_voice

if TYPE_CHECKING:
    from twin.api.deps import AppState
    from twin.chat.service import ChatService

log = logging.getLogger("twin.realtime")
_WARM: dict[str, Any] = {}
_LOCK = threading.Lock()


def _warm(capability: str, name: str, **kwargs: Any) -> Any:
    key = capability + "|" + name + "|" + json.dumps(kwargs, sort_keys=True, default=str)
    with _LOCK:
        if key not in _WARM:
            engine = registry.create(capability, name, **kwargs)
            engine.load()
            _WARM[key] = engine
        return _WARM[key]


def open_vad(config: RealtimeConfig) -> VAD:
    """The configured VAD, or the energy VAD (with a warning) where silero's extra is missing."""
    try:
        vad: VAD = _warm("vad", config.vad)
    except MissingDependency as exc:
        log.warning("%s Using the energy VAD instead.", exc.message)
        vad = _warm("vad", "energy")
    return vad


def open_stt(config: RealtimeConfig) -> STT:
    kwargs = {"model": config.stt_model} if config.stt == "faster_whisper" else {}
    stt: STT = _warm("stt", config.stt, **kwargs)
    return stt


class ChatReplier:
    """A voice turn through the chat service; keeps the conversation going across turns."""

    def __init__(self, chat: ChatService, persona: str, conversation_id: str | None, config: RealtimeConfig) -> None:
        self.chat = chat
        self.persona = persona
        self.conversation_id = conversation_id
        self.config = config

    async def reply(self, text: str, cancel: asyncio.Event) -> AsyncIterator[str | ReplyDone]:
        from twin.chat.service import TurnResult

        options = LLMOptions(max_tokens=self.config.max_tokens)
        async for event in self.chat.stream_turn(
            text, self.persona, self.conversation_id, use_memory=self.config.memory, options=options, cancel=cancel
        ):
            if isinstance(event, TextDelta):
                yield event.text
            elif isinstance(event, TurnResult):
                self.conversation_id = event.conversation_id
                yield ReplyDone(event.reply, event.conversation_id, event.assistant_message_id, event.finish_reason)

    async def truncate(self, done: ReplyDone, delivered: str) -> None:
        if done.message_id is not None:
            await asyncio.to_thread(self.chat.mark_interrupted, done.message_id, delivered)


class SynthSpeaker:
    """The profile's synthesizer, speaking in the voice realtime.json names, else the persona's own voice
    (a film character's), else the profile's default voice. A persona voice that was deleted since
    falls back to the default rather than refusing the session."""

    def __init__(self, synth: Synthesizer, config: RealtimeConfig, persona_voice: str | None = None) -> None:
        try:
            voice = choose_voice(synth.profile, config.voice_id or persona_voice)
        except NotFound:
            if config.voice_id or not persona_voice:
                raise
            log.warning("the persona's voice %s is gone; speaking in the default voice", persona_voice)
            voice = choose_voice(synth.profile, None)
        self.voice_id = voice.voice_id
        options = SpeakOptions(voice_id=voice.voice_id, engine=config.tts_engine, language=config.language or "en")
        self.speaker = TextStreamSpeaker(synth, options)

    async def speak(self, text: AsyncIterator[str], sample_rate: int) -> AsyncIterator[SpokenClause]:
        async for clause in self.speaker.speak(text, sample_rate):
            yield SpokenClause(clause.text, clause.samples, clause.sample_rate)


def _check_names(chat: ChatService, hello: Hello) -> None:
    """Fail at hello (not at the first turn) on an unknown persona or conversation."""
    chat.personas.get(hello.persona)
    if hello.conversation_id is not None:
        chat.resolve(hello.persona, hello.conversation_id)


async def assemble(chat: ChatService, synth: Synthesizer, hello: Hello, config: RealtimeConfig) -> Engines:
    await asyncio.to_thread(_check_names, chat, hello)
    vad = await asyncio.to_thread(open_vad, config)
    stt = await asyncio.to_thread(open_stt, config)
    replier = ChatReplier(chat, hello.persona, hello.conversation_id, config)
    persona = await asyncio.to_thread(chat.personas.get, hello.persona)
    speaker = await asyncio.to_thread(SynthSpeaker, synth, config, persona.voice_id)
    await _warm_up(chat, speaker, hello, config)
    return Engines(vad, stt, replier, speaker)


async def _warm_up(chat: ChatService, speaker: SynthSpeaker, hello: Hello, config: RealtimeConfig) -> None:
    """Load the persona's model, the embeddings and the voice before `ready`, so the first turn does
    not wait for them (each stays warm for later sessions)."""
    persona = await asyncio.to_thread(chat.personas.get, hello.persona)

    async def voice() -> None:
        async for _ in speaker.speaker.synth.stream_audio("Hi.", voice_id=speaker.voice_id, engine=config.tts_engine):
            pass

    steps = [chat.llm_for(persona).ensure_loaded(), voice()]
    if config.memory:
        steps.append(asyncio.to_thread(chat.memory.warm_up))
    await asyncio.gather(*steps)


@contextlib.asynccontextmanager
async def local_engines(
    profile: Profile, settings: Settings, hello: Hello
) -> AsyncIterator[tuple[Engines, RealtimeConfig]]:
    """Engines for a session in this process (the CLI): its own chat service, closed afterwards once
    the background memory work of the turns is done."""
    from twin.chat.service import ChatService

    config = await asyncio.to_thread(load_realtime_config, profile)
    chat = ChatService(profile)
    try:
        yield await assemble(chat, Synthesizer(profile, settings), hello, config), config
        await chat.drain()
    finally:
        chat.close()


async def build_engines(state: AppState, profile: Profile, hello: Hello) -> tuple[Engines, RealtimeConfig]:
    """Engines for one session of `profile` in the server (the chat service and synthesizer the HTTP
    routes use, so the voice loop shares their warm models)."""
    from twin.api.routers.chat import chat_service

    config = await asyncio.to_thread(load_realtime_config, profile)
    chat = chat_service(state, profile)
    return await assemble(chat, state.services.synthesizer(profile), hello, config), config
