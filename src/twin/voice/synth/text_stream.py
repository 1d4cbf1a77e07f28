"""Speech from a stream of text (an LLM's deltas): each clause is spoken as soon as the chunker sees it
complete, and its audio leaves at the listener's sample rate through one streaming resampler, so
the joins between clauses are continuous (no filter restart, no click).

Both queues on this path are bounded: complete clauses wait in a small queue (the text producer waits
when speech falls behind), and the synthesizer's engine-loop bridge holds a few pieces at most.
Closing the iterator (or cancelling the task that reads it) stops the text reader and the engine at
once; nothing already queued is spoken afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from twin.audio.resample import StreamResampler
from twin.voice.synth import codec
from twin.voice.synth.clauses import ClauseChunker
from twin.voice.synth.normalize import has_words, normalize_text
from twin.voice.synth.synthesizer import Synthesizer

_END = None


@dataclass
class ClauseAudio:
    """One spoken clause: float32 mono samples at `sample_rate` (the tail of the last clause holds the
    resampler's final samples; a piece with empty text may carry only that tail)."""

    index: int
    text: str
    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class SpeakOptions:
    voice_id: str | None = None
    engine: str | None = None
    emotion: str | None = None
    language: str = "en"
    speed: float = 1.0
    clause_queue: int = 4  # complete clauses waiting for synthesis before the text producer waits


class TextStreamSpeaker:
    """`speak(deltas, sample_rate)` yields ClauseAudio clause by clause."""

    def __init__(self, synth: Synthesizer, options: SpeakOptions | None = None) -> None:
        self.synth = synth
        self.options = options or SpeakOptions()

    async def speak(self, deltas: AsyncIterator[str], sample_rate: int) -> AsyncIterator[ClauseAudio]:
        clauses: asyncio.Queue[str | None] = asyncio.Queue(self.options.clause_queue)
        reader = asyncio.ensure_future(_read_clauses(deltas, clauses, ClauseChunker()))
        resampler = StreamResampler(codec.OUTPUT_RATE, sample_rate)
        index = 0
        try:
            while True:
                clause = await clauses.get()
                if clause is _END:
                    break
                samples = await self._clause_pcm(clause)
                if samples is None:
                    continue
                out = resampler.process(samples)
                if reader.done() and clauses.qsize() == 1:  # only the end marker is left: add the tail now
                    out = np.concatenate([out, resampler.flush()])
                yield ClauseAudio(index, clause, out, sample_rate)
                index += 1
            await reader  # re-raises a failure of the text source
            tail = resampler.flush()
            if len(tail):
                yield ClauseAudio(index, "", tail, sample_rate)
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader

    async def _clause_pcm(self, clause: str) -> np.ndarray | None:
        """The clause at the synthesizer's output rate; None when it holds nothing speakable ("…")."""
        opt = self.options
        if not has_words(normalize_text(clause, opt.language)):
            return None
        parts: list[np.ndarray] = []
        async for chunk in self.synth.stream_audio(
            clause, voice_id=opt.voice_id, emotion=opt.emotion, engine=opt.engine, speed=opt.speed,
            language=opt.language,
        ):  # fmt: skip
            parts.append(chunk.samples)
        return np.concatenate(parts) if parts else None


async def _read_clauses(deltas: AsyncIterator[str], out: asyncio.Queue[str | None], chunker: ClauseChunker) -> None:
    try:
        async for delta in deltas:
            for clause in chunker.feed(delta):
                await out.put(clause)
        for clause in chunker.flush():
            await out.put(clause)
    except Exception:
        await out.put(_END)  # the speaker stops, then re-raises this from the finished task
        raise
    await out.put(_END)
