"""Speech from a text stream: the clause chunker, clause-by-clause synthesis that starts before the
text ends, continuity across clauses at the listener's rate, and cancel."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.realtime.fakes import GATE, SPOKEN, GatedTTS

from twin.audio.resample import resample
from twin.profiles import Profile, ProfileManager
from twin.providers import registry
from twin.settings import load_settings
from twin.voice.synth import Synthesizer
from twin.voice.synth.clauses import ClauseChunker
from twin.voice.synth.engine_loop import reset_backends
from twin.voice.synth.text_stream import SpeakOptions, TextStreamSpeaker

pytestmark = pytest.mark.timeout(60)
SR = 22050


def chunk(text: str, tokens: str = r"\S+\s*|\s+") -> list[str]:
    c = ClauseChunker()
    out = [clause for tok in re.findall(tokens, text) for clause in c.feed(tok)]
    return out + c.flush()


def test_chunker_splits_where_a_speaker_would_pause() -> None:
    text = "Sure, I can help. Dr. Smith said it costs 3.5 dollars, e.g. not much! Is that okay?\nNext line"
    clauses = chunk(text)
    assert clauses == [
        "Sure, I can help.",
        "Dr. Smith said it costs 3.5 dollars, e.g. not much!",
        "Is that okay?",
        "Next line",
    ]
    assert " ".join(clauses).split() == text.split()  # nothing lost, nothing added


def test_chunker_first_clause_is_short_later_ones_fuller() -> None:
    assert (
        chunk("Well, let me think about that, because it is a good question, really.")[0]
        == "Well, let me think about that,"
    )
    long = "word " * 80
    pieces = chunk(long)
    assert all(len(p) <= 220 for p in pieces) and len(pieces[0]) <= 90
    assert " ".join(pieces).split() == long.split()
    assert chunk("Hello") == ["Hello"] and chunk("   ") == []


def test_chunker_waits_for_the_character_after_the_boundary() -> None:
    c = ClauseChunker()
    assert c.feed("It costs 3.") == []  # could be 3.5
    assert c.feed("5 euros. Then") == ["It costs 3.5 euros."]


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[Profile]:
    registry.register("tts", "gated", "tests.realtime.fakes:GatedTTS")
    reset_backends()
    SPOKEN.clear()
    GatedTTS.phase = 0
    prof = ProfileManager(load_settings()).create("talker")
    yield prof
    reset_backends()


async def test_clauses_are_spoken_while_the_text_still_streams(profile: Profile) -> None:
    more = asyncio.Event()

    async def deltas() -> AsyncIterator[str]:
        for piece in ["Hello there, ", "my friend. "]:
            yield piece
        await more.wait()  # the model is still thinking
        yield "Goodbye now."

    speaker = TextStreamSpeaker(Synthesizer(profile), SpeakOptions(engine="gated"))
    got = []
    async for clause in speaker.speak(deltas(), 48000):
        got.append(clause)
        if len(got) == 1:
            assert not more.is_set()  # the first clause came before the rest of the text
            more.set()
    assert [c.text for c in got if c.text] == ["Hello there,", "my friend.", "Goodbye now."]
    assert all(c.sample_rate == 48000 for c in got)


class _NoWatermark:
    """Passes audio through: the watermark's gain pattern restarts with each clause's synthesis, which is
    inaudible but not sample-exact (tests/voice test the watermark itself)."""

    def feed(self, samples: np.ndarray) -> np.ndarray:
        return np.asarray(samples, dtype=np.float32)

    def flush(self) -> np.ndarray:
        return np.zeros(0, dtype=np.float32)


async def test_audio_is_continuous_across_clauses(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twin.voice.synth.synthesizer.Watermarker", _NoWatermark)

    async def deltas() -> AsyncIterator[str]:
        for piece in ["One two three four. ", "Five six seven eight. ", "Nine ten."]:
            yield piece

    speaker = TextStreamSpeaker(Synthesizer(profile), SpeakOptions(engine="gated"))
    out = np.concatenate([c.samples async for c in speaker.speak(deltas(), 48000)])
    t = np.arange(GatedTTS.phase)
    whole = resample((0.4 * np.sin(2 * np.pi * 200 * t / SR)).astype(np.float32), SR, 48000)
    assert abs(len(out) - len(whole)) <= 2
    n = min(len(out), len(whole))
    # the joins are inaudible: the streamed signal is the one-shot resampling of the whole
    assert float(np.max(np.abs(out[200 : n - 200] - whole[200 : n - 200]))) < 1e-3


async def test_closing_the_stream_stops_synthesis(profile: Profile) -> None:
    GATE["open"] = asyncio.Event()

    async def deltas() -> AsyncIterator[str]:
        yield "First clause here. "
        yield "Then WAIT forever. "
        yield "Never spoken."

    speaker = TextStreamSpeaker(Synthesizer(profile), SpeakOptions(engine="gated"))
    stream = speaker.speak(deltas(), 16000)
    first = await stream.__anext__()
    assert first.text == "First clause here."
    pending = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.2)  # the engine is inside the blocked clause
    pending.cancel()  # barge-in: the reader of the speech is cancelled
    await asyncio.gather(pending, return_exceptions=True)
    await stream.aclose()
    await asyncio.sleep(0.1)
    assert SPOKEN == ["First clause here.", "Then WAIT forever."]  # nothing after the cancel


async def test_a_clause_of_punctuation_alone_is_skipped_not_an_error(profile: Profile) -> None:
    async def deltas() -> AsyncIterator[str]:
        for piece in ["Well. ", "... ", "?! ", "Fine then."]:
            yield piece

    speaker = TextStreamSpeaker(Synthesizer(profile), SpeakOptions(engine="gated"))
    spoken = [c.text async for c in speaker.speak(deltas(), 48000) if c.text and len(c.samples)]
    assert spoken and spoken[0] == "Well." and spoken[-1] == "Fine then."
