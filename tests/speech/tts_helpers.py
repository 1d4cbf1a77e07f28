"""A scripted in-process TTS backend for synthesizer tests: counts calls, records texts, can fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from twin.errors import Unavailable
from twin.providers.tts import AudioChunk, TTSBackend, TTSCapabilities, TTSOptions, VoiceSpec

CALLS: list[str] = []
SECONDS_PER_CHAR = 0.05


class ScriptedTTS(TTSBackend):
    name = "scripted"
    version = "1"
    capabilities = TTSCapabilities(streaming=True, zero_shot=True, sample_rate=16000)

    def __init__(self, fail: bool = False, delay_s: float = 0.0, label: str = "scripted") -> None:
        super().__init__()
        self.fail, self.delay_s, self.name = fail, delay_s, label

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        CALLS.append(f"{self.name}:{text}")
        if self.fail:
            raise Unavailable(f"{self.name} is down", "start it")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        n = int(len(text) * SECONDS_PER_CHAR * 16000)
        yield AudioChunk((0.1 * np.sin(np.arange(n) / 8.0)).astype(np.float32), 16000)
