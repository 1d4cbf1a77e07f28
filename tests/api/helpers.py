"""Engines that fail the way real ones do, registered by tests through the provider registry: a TTS
backend that breaks on its second clause (after audio has been sent) and an LLM that breaks mid-reply.
Both raise plain exceptions, as an engine's bug or a native library would, not TwinErrors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from twin.backends.llm_fake import FakeLLM
from twin.providers.llm import ChatMessage, LLMOptions, StreamEnd
from twin.providers.tts import AudioChunk, TTSBackend, TTSCapabilities, TTSOptions, VoiceSpec


class BreaksOnSecondClause(TTSBackend):
    name = "breaks_later"
    version = "1"
    capabilities = TTSCapabilities(streaming=True, sample_rate=22050)

    def __init__(self) -> None:
        super().__init__()
        self.clauses = 0

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        self.clauses += 1
        if self.clauses % 2 == 0:
            raise RuntimeError("engine crashed in native code")
        t = np.arange(22050) / 22050
        yield AudioChunk((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)


class BreaksMidReply(FakeLLM):
    name = "breaks_mid_reply"

    async def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncIterator[str | StreamEnd]:
        yield "Partial "
        yield "reply "
        raise RuntimeError("model runtime crashed")


def broken_llm(**kwargs: Any) -> BreaksMidReply:
    return BreaksMidReply(model="breaks")


class RecordsClose(FakeLLM):
    """The fake LLM, remembering whether the server released it."""

    closed: list[str] = []

    async def aclose(self) -> None:
        RecordsClose.closed.append(self.model)


def closing_llm(**kwargs: Any) -> RecordsClose:
    return RecordsClose(model="closing")
