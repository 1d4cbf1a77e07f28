"""The voice loop without a network: one turn from a recording (`twin talk --input`), or a live
conversation through a local audio device (`twin talk`). Both drive the same VoiceSession the
WebSocket routes use."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from twin.audio.pcm import from_pcm16, to_pcm16
from twin.realtime.config import RealtimeConfig
from twin.realtime.events import (
    AssistantDelta,
    AssistantMessage,
    Done,
    Error,
    FinalTranscript,
    Hello,
    Interrupted,
    PartialTranscript,
    Playback,
    ServerEvent,
    TTSAudio,
)
from twin.realtime.ports import Engines
from twin.realtime.session import VoiceSession

FEED_S = 0.1
SHOWN = (PartialTranscript, FinalTranscript, AssistantDelta, AssistantMessage, Error, Interrupted)


@dataclass
class FileTurn:
    transcript: str = ""
    reply: str = ""
    conversation_id: str | None = None
    message_id: str | None = None
    sample_rate: int = 16000
    audio: list[bytes] = field(default_factory=list)
    clauses: int = 0
    first_audio_s: float | None = None  # from the end of the recording to the first speech
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def samples(self) -> np.ndarray:
        return from_pcm16(b"".join(self.audio)) if self.audio else np.zeros(0, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "transcript": self.transcript,
            "reply": self.reply,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "clauses": self.clauses,
            "audio_s": round(len(self.samples) / self.sample_rate, 3),
            "sample_rate": self.sample_rate,
            "first_audio_s": round(self.first_audio_s, 3) if self.first_audio_s is not None else None,
            "errors": self.errors,
        }


async def feed(session: VoiceSession, audio: np.ndarray, rate: int) -> None:
    """Send a recording to the session as fast as it can take it (never overrunning its mic queue)."""
    pcm = to_pcm16(audio)
    step = int(rate * FEED_S) * 2
    for i in range(0, len(pcm), step):
        session.push_audio(pcm[i : i + step])
        while session.mic is not None and session.mic.pending_bytes:
            await asyncio.sleep(0.001)


async def talk_file(engines: Engines, config: RealtimeConfig, audio: np.ndarray, rate: int, hello: Hello) -> FileTurn:
    """One turn: the recording is what the user says; the reply's speech is collected."""
    session = VoiceSession(engines, config)
    result = FileTurn(sample_rate=rate)
    await session.start(hello)
    await feed(session, audio, rate)
    ended = time.perf_counter()
    session.end()
    try:
        async for event in session.events():
            if _collect(result, event, ended):
                break
    finally:
        await session.close()
    return result


def _collect(result: FileTurn, event: ServerEvent, ended: float) -> bool:
    """Fold one event into the result; True at the end of the turn."""
    if isinstance(event, FinalTranscript):
        result.transcript = event.text
    elif isinstance(event, TTSAudio):
        result.first_audio_s = result.first_audio_s or time.perf_counter() - ended
        result.audio.append(event.pcm)
        result.clauses += 1
    elif isinstance(event, AssistantMessage):
        result.reply, result.conversation_id, result.message_id = event.text, event.conversation_id, event.message_id
    elif isinstance(event, Error):
        result.errors.append({"code": event.code, "message": event.message, "hint": event.hint})
    elif isinstance(event, Done):
        result.conversation_id = result.conversation_id or event.conversation_id
        return True
    return False


class AudioDevice(Protocol):
    """A microphone and a speaker at one sample rate, PCM16 mono."""

    sample_rate: int

    def start(self, on_mic: Callable[[bytes], None]) -> None: ...

    def play(self, pcm: bytes) -> None: ...

    def clear(self) -> None:
        """Stop playing now and drop what is queued."""

    def played_ms(self) -> float:
        """Audio played since the last clear()."""

    def close(self) -> None: ...


async def talk_live(
    engines: Engines,
    config: RealtimeConfig,
    device: AudioDevice,
    hello: Hello,
    show: Callable[[ServerEvent], None],
    stop: asyncio.Event,
) -> None:
    """A conversation until `stop` is set: mic to the session, speech to the speaker, barge-in stops it."""
    loop = asyncio.get_running_loop()
    session = VoiceSession(engines, config)
    await session.start(hello)

    def heard(pcm: bytes) -> None:  # called in the audio thread
        loop.call_soon_threadsafe(session.push_audio, pcm)

    device.start(heard)
    playing: str | None = None

    async def report() -> None:
        while True:
            await asyncio.sleep(0.2)
            if playing is not None:
                await session.handle(Playback(type="playback", turn_id=playing, played_ms=device.played_ms()))

    reporter = asyncio.ensure_future(report())
    events = asyncio.ensure_future(_play(session, device, show, lambda turn: _set(turn)))

    def _set(turn: str | None) -> None:
        nonlocal playing
        playing = turn

    try:
        await stop.wait()
    finally:
        device.close()
        reporter.cancel()
        await session.close()
        await asyncio.gather(reporter, events, return_exceptions=True)


async def _play(
    session: VoiceSession,
    device: AudioDevice,
    show: Callable[[ServerEvent], None],
    playing: Callable[[str | None], None],
) -> None:
    current: str | None = None
    async for event in session.events():
        if isinstance(event, TTSAudio):
            if event.turn_id != current:
                current = event.turn_id
                device.clear()
                playing(current)
            device.play(event.pcm)
        elif isinstance(event, Interrupted):
            device.clear()
            current = None
            playing(None)
        if isinstance(
            event, PartialTranscript | FinalTranscript | AssistantDelta | AssistantMessage | Error | Interrupted
        ):
            show(event)
