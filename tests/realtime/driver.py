"""Drive a VoiceSession directly: feed audio frame by frame (the session's clock follows the audio, the
wall clock is frozen), collect every event with the mic frame count at which it was emitted."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from tests.realtime.fakes import pcm

from twin.audio.resample import resample
from twin.realtime.config import RealtimeConfig
from twin.realtime.events import Hello, ServerEvent, TTSAudio
from twin.realtime.ports import Engines
from twin.realtime.session import VoiceSession

FRAME_S = 0.02


@dataclass
class Seen:
    event: ServerEvent
    frame: int  # mic frames processed when it was emitted
    at_s: float  # session clock then

    @property
    def type(self) -> str:
        return self.event.type


class Driver:
    def __init__(self, engines: Engines, config: RealtimeConfig | None = None, **kwargs: Any) -> None:
        self.session = VoiceSession(engines, config or RealtimeConfig(), wall=lambda: 0.0, **kwargs)
        self.seen: list[Seen] = []
        self.sent: list[ServerEvent] = []
        original = self.session.outbox.put_nowait

        def queued(event: ServerEvent) -> None:
            self.seen.append(Seen(event, self.session.frames_in, self.session.clock.now()))
            original(event)

        self.session.outbox.put_nowait = queued  # type: ignore[method-assign]
        self.rate = 16000
        self.reading = True
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Driver:
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)

    async def _read(self) -> None:
        while True:
            while not self.reading:
                await asyncio.sleep(0.005)
            event = await self.session.outbox.get()
            if event is None:
                return
            self.sent.append(event)

    async def hello(self, rate: int = 16000, **fields: Any) -> None:
        self.rate = rate
        await self.session.handle(Hello.model_validate({"type": "hello", "sample_rate": rate, **fields}))

    async def feed(self, audio16k: np.ndarray, settle: bool = True) -> None:
        """Send 16 kHz audio (resampled to the hello rate) in 20 ms frames, letting the loop run between."""
        x = resample(audio16k, 16000, self.rate) if self.rate != 16000 else audio16k
        step = int(self.rate * FRAME_S)
        for i in range(0, len(x), step):
            self.session.push_audio(pcm(x[i : i + step]))
            await self.until(lambda: self.session.mic is not None and not self.session.mic._frames, 2)
            if settle:
                await asyncio.sleep(0)

    async def until(self, condition: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; events so far: {self.types()}")
            await asyncio.sleep(0.002)

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 10.0) -> Seen:
        await self.until(lambda: len(self.of(kind)) >= count, timeout)
        return self.of(kind)[count - 1]

    async def idle(self) -> None:
        """Let worker threads and tasks finish what they were doing."""
        for _ in range(5):
            await asyncio.sleep(0.02)

    def of(self, kind: str) -> list[Seen]:
        return [s for s in self.seen if s.type == kind]

    def types(self, drop: tuple[str, ...] = ("assistant_delta", "partial_transcript", "tts_audio")) -> list[str]:
        out: list[str] = []
        for s in self.seen:
            if s.type in drop:
                if not out or out[-1] != s.type + "*":
                    out.append(s.type + "*")
            else:
                out.append(s.type)
        return out

    def audio(self, turn_id: str | None = None) -> list[TTSAudio]:
        return [e for e in self.sent if isinstance(e, TTSAudio) and (turn_id is None or e.turn_id == turn_id)]
