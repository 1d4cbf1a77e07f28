"""Scripted engines for driving the voice session directly: a threshold VAD (speech = any frame louder
than -40 dBFS), an STT that answers a fixed text for audio with speech in it and counts its decodes, a
replier that streams scripted words and records what the session truncated, and a speaker that turns
each clause into a tone whose length follows the clause (0.2 s a word)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from twin.errors import TwinError
from twin.providers.stt import STT, Segment, STTOptions, Transcript
from twin.providers.tts import AudioChunk, TTSBackend, TTSCapabilities, TTSOptions, VoiceSpec
from twin.providers.vad import VAD
from twin.realtime.ports import Engines, ReplyDone, SpokenClause
from twin.voice.synth.clauses import ClauseChunker

RATE = 16000
SR = 22050
SPOKEN: list[str] = []
GATE: dict[str, asyncio.Event] = {}


class LoudVAD(VAD):
    name = "loud"

    def speech_probs(self, audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
        hop = int(sr * 0.02)
        n = len(audio) // hop
        frames = np.asarray(audio[: n * hop]).reshape(n, hop) if n else np.zeros((0, hop))
        rms = np.sqrt(np.mean(frames**2, axis=1)) if n else np.zeros(0)
        return (rms > 0.01).astype(np.float32), hop / sr


class ScriptedSTT(STT):
    name = "scripted"

    def __init__(self, text: str = "hello twin", fail: TwinError | None = None) -> None:
        self.text = text
        self.fail = fail
        self.decodes: list[float] = []  # seconds of audio per decode

    def transcribe(self, audio: np.ndarray, sr: int, options: STTOptions | None = None) -> Transcript:
        self.decodes.append(len(audio) / sr)
        if self.fail is not None:
            raise self.fail
        if not len(audio) or float(np.max(np.abs(audio))) < 0.01:
            return Transcript("")
        return Transcript(self.text, [Segment(0.0, len(audio) / sr, self.text, 0.9)], 0.9, "en")


@dataclass
class ScriptedReplier:
    reply_text: str = "Sure, I can help with that. It will be sunny tomorrow, and warm."
    delay_s: float = 0.0
    fail: TwinError | None = None
    heard: list[str] = field(default_factory=list)
    truncated: list[tuple[str, str]] = field(default_factory=list)  # (message_id, delivered)
    stored: dict[str, str] = field(default_factory=dict)  # message_id -> stored text

    async def reply(self, text: str, cancel: asyncio.Event) -> AsyncIterator[str | ReplyDone]:
        self.heard.append(text)
        message_id = f"m{len(self.heard)}"
        sent: list[str] = []
        for word in self.reply_text.split(" "):
            if cancel.is_set():
                break
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            else:
                await asyncio.sleep(0)
            if self.fail is not None and len(sent) >= 3:
                self.stored[message_id] = "".join(sent)
                raise self.fail
            piece = word + " "
            sent.append(piece)
            yield piece
        finish = "cancelled" if cancel.is_set() else "stop"
        self.stored[message_id] = "".join(sent).strip()
        yield ReplyDone("".join(sent).strip(), "conv1", message_id, finish)

    async def truncate(self, done: ReplyDone, delivered: str) -> None:
        self.truncated.append((done.message_id or "", delivered))
        self.stored[done.message_id or ""] = delivered


@dataclass
class ToneSpeaker:
    seconds_per_word: float = 0.2
    delay_s: float = 0.0
    fail_on: int | None = None  # clause index that raises
    clauses: list[str] = field(default_factory=list)

    async def speak(self, text: AsyncIterator[str], sample_rate: int) -> AsyncIterator[SpokenClause]:
        chunker = ClauseChunker()
        async for piece in text:
            for clause in chunker.feed(piece):
                yield await self._clause(clause, sample_rate)
        for clause in chunker.flush():
            yield await self._clause(clause, sample_rate)

    async def _clause(self, clause: str, sample_rate: int) -> SpokenClause:
        if self.fail_on is not None and len(self.clauses) == self.fail_on:
            raise TwinError("the voice engine broke", "restart it", code="unavailable")
        self.clauses.append(clause)
        await asyncio.sleep(self.delay_s)
        return SpokenClause(clause, voiced(clause, self.seconds_per_word, sample_rate), sample_rate)


def voiced(text: str, seconds_per_word: float, rate: int) -> np.ndarray:
    """Speech-like audio for `text`: per word a harmonic tone whose pitch and formant follow the word,
    rising and falling like a syllable, so echo of it has a pattern in time."""
    words = []
    n = int(seconds_per_word * rate)
    t = np.arange(n) / rate
    env = 0.25 + 0.75 * np.sin(np.pi * t / (n / rate)) ** 2
    for word in text.split():
        code = sum(map(ord, word))
        pitch = 110 + (code % 7) * 25
        formant = 500 + (code % 11) * 250
        sig = sum(
            np.sin(2 * np.pi * pitch * k * t) * np.exp(-(((pitch * k - formant) / 400) ** 2)) for k in range(1, 30)
        )
        words.append(0.3 * env * sig / (np.max(np.abs(sig)) + 1e-9))
    return np.concatenate(words).astype(np.float32) if words else np.zeros(0, np.float32)


def engines(
    stt: ScriptedSTT | None = None, replier: ScriptedReplier | None = None, speaker: ToneSpeaker | None = None
) -> Engines:
    return Engines(LoudVAD(), stt or ScriptedSTT(), replier or ScriptedReplier(), speaker or ToneSpeaker())


def speech(seconds: float, rate: int = RATE, pitch: float = 180.0) -> np.ndarray:
    """A loud voiced-like signal (harmonics with a syllable-rate envelope)."""
    t = np.arange(int(seconds * rate)) / rate
    sig = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    return (0.3 * sig * env / 2.3).astype(np.float32)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def pcm(x: np.ndarray) -> bytes:
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


class GatedTTS(TTSBackend):
    """A 22,050 Hz sine per clause (continuing its phase across clauses); a clause containing 'WAIT'
    blocks until the test opens the gate."""

    name = "gated"
    version = "1"
    capabilities = TTSCapabilities(streaming=True, sample_rate=SR)
    phase = 0

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        SPOKEN.append(text)
        if "WAIT" in text:
            await GATE["open"].wait()
        n = int(0.05 * len(text) * SR)
        t = np.arange(GatedTTS.phase, GatedTTS.phase + n)
        GatedTTS.phase += n
        yield AudioChunk((0.4 * np.sin(2 * np.pi * 200 * t / SR)).astype(np.float32), SR)
