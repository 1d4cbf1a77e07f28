"""Engines for the reliability tests: a TTS that takes its time (so requests pile up), one that dies in
the middle of a stream, and an LLM that dies mid-reply."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import numpy as np

from twin.errors import Unavailable
from twin.providers.tts import AudioChunk, TTSBackend, TTSCapabilities, TTSOptions, VoiceSpec

RELEASE = threading.Event()  # set it to let every SlowTTS synthesis finish
STARTED: list[str] = []


class SlowTTS(TTSBackend):
    """Speaks only once RELEASE is set (polled), so a test controls how many syntheses are in flight."""

    name = "slow"
    version = "1"
    capabilities = TTSCapabilities(streaming=True, sample_rate=16000)

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        STARTED.append(text)
        while not RELEASE.is_set():
            await asyncio.sleep(0.01)
        yield AudioChunk((0.1 * np.sin(np.arange(8000) / 8.0)).astype(np.float32), 16000)


class DiesMidStream(TTSBackend):
    """First clause fine, then the engine process 'dies' (connection lost) on the second."""

    name = "dies"
    version = "1"
    capabilities = TTSCapabilities(streaming=True, sample_rate=16000)

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        self.calls += 1
        if self.calls > 1:
            raise Unavailable("The engine process exited (connection reset).", "Restart the engine.")
        yield AudioChunk((0.1 * np.sin(np.arange(16000) / 8.0)).astype(np.float32), 16000)
