"""Synthesizer behaviour with a scripted backend: cache, eviction, invalidation, de-duplication,
fallback order, formats, streaming and long text."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from speech import tts_helpers
from speech.conftest import make_voice, tone
from twin.audio.decode import decode_bytes
from twin.errors import InvalidInput, Unavailable
from twin.providers import registry
from twin.voice.synth import Synthesizer
from twin.voice.synth.chunking import split_text
from twin.voice.synth.config import TTSConfig


@pytest.fixture(autouse=True)
def _scripted() -> None:
    registry.register("tts", "scripted", "speech.tts_helpers:ScriptedTTS")
    tts_helpers.CALLS.clear()


def cfg(**engines: dict) -> TTSConfig:
    return TTSConfig(engine="scripted", fallback=[], engines=dict(engines), cache_max_mb=64)


def test_wav_and_mp3_decode_to_rate_and_length(profile) -> None:
    synth = Synthesizer(profile, config=cfg())
    text = "Hello there, this is a test."
    expected = len(text) * tts_helpers.SECONDS_PER_CHAR
    wav = synth.synthesize(text, fmt="wav")
    samples, sr = decode_bytes(wav.audio)
    assert sr == 22050 and wav.sample_rate == 22050
    assert abs(len(samples) / sr - expected) < 0.02
    assert wav.engine == "scripted" and wav.media_type == "audio/wav"
    mp3 = synth.synthesize(text, fmt="mp3")
    m_samples, m_sr = decode_bytes(mp3.audio)
    assert m_sr == 22050 and mp3.media_type == "audio/mpeg"
    assert abs(len(m_samples) / m_sr - expected) < 0.1  # encoder padding only


def test_cache_hit_miss_and_options_in_key(profile) -> None:
    synth = Synthesizer(profile, config=cfg())
    first = synth.synthesize("Cache me please.")
    second = synth.synthesize("Cache me please.")
    assert not first.cache_hit and second.cache_hit
    assert second.audio == first.audio and second.engine == "scripted"
    assert len(tts_helpers.CALLS) == 1
    synth.synthesize("Cache me please.", speed=1.5)
    synth.synthesize("Cache me please.", fmt="mp3")
    assert len(tts_helpers.CALLS) == 3


def test_cache_eviction_is_lru(profile) -> None:
    synth = Synthesizer(profile, config=cfg())
    one = synth.synthesize("Entry number one is here.")
    synth.cache.max_bytes = int(len(one.audio) * 2.5)
    synth.synthesize("Entry number two is here.")
    synth.synthesize("Entry number one is here.")  # touch: now most recent
    synth.synthesize("Entry number three is here.")  # evicts "two"
    assert len(synth.cache.entries()) == 2
    tts_helpers.CALLS.clear()
    assert synth.synthesize("Entry number one is here.").cache_hit
    assert not synth.synthesize("Entry number two is here.").cache_hit


def test_cache_invalidated_when_reference_changes(profile) -> None:
    make_voice(profile, "owner", tone(pitch=180))
    synth = Synthesizer(profile, config=cfg())
    assert not synth.synthesize("Hi.", voice_id="owner").cache_hit
    assert synth.synthesize("Hi.", voice_id="owner").cache_hit
    make_voice(profile, "owner", tone(pitch=240))  # new reference clip
    assert not synth.synthesize("Hi.", voice_id="owner").cache_hit
    synth.invalidate("owner")
    assert not synth.synthesize("Hi.", voice_id="owner").cache_hit


def test_concurrent_identical_requests_synthesize_once(profile) -> None:
    config = cfg(scripted={"delay_s": 0.3})
    synth = Synthesizer(profile, config=config)

    async def many() -> list:
        return await asyncio.gather(*(synth.asynthesize("Same words at once.") for _ in range(5)))

    results = asyncio.run(many())
    assert len(tts_helpers.CALLS) == 1
    assert len({r.audio for r in results}) == 1
    assert sum(r.shared for r in results) + sum(r.cache_hit for r in results) == 4


def test_fallback_order_and_report(profile) -> None:
    make_voice(profile, "owner", tone())
    registry.register("tts", "down", "speech.tts_helpers:ScriptedTTS")
    config = TTSConfig(engine="down", fallback=["scripted"], engines={"down": {"fail": True, "label": "down"}})
    res = Synthesizer(profile, config=config).synthesize("Fall back please.", voice_id="owner")
    assert res.engine == "scripted"
    assert [f["engine"] for f in res.fallbacks] == ["down"]
    assert tts_helpers.CALLS == ["down:Fall back please.", "scripted:Fall back please."]
    # the failed engine is now marked unusable and skipped without being called
    tts_helpers.CALLS.clear()
    res = Synthesizer(profile, config=config).synthesize("Second request.", voice_id="owner")
    assert tts_helpers.CALLS == ["scripted:Second request."]


def test_explicit_engine_does_not_fall_back(profile) -> None:
    registry.register("tts", "down", "speech.tts_helpers:ScriptedTTS")
    config = TTSConfig(fallback=["scripted"], engines={"down": {"fail": True, "label": "down"}})
    with pytest.raises(Unavailable):
        Synthesizer(profile, config=config).synthesize("No.", engine="down")


def test_long_text_keeps_last_words(profile) -> None:
    words = [f"word{i}" for i in range(300)]
    text = " ".join(f"{w}," if i % 7 == 6 else w for i, w in enumerate(words)) + " and the final words."
    chunks = split_text(text, max_chars=120)
    assert " ".join(chunks) == text and all(len(c) <= 120 for c in chunks)
    res = Synthesizer(profile, config=cfg()).synthesize(text)
    spoken = " ".join(c.split(":", 1)[1] for c in tts_helpers.CALLS)
    assert spoken.endswith("and the final words.") and res.chunks == len(tts_helpers.CALLS) > 1
    expected = len(spoken.replace(" ", "")) * tts_helpers.SECONDS_PER_CHAR
    assert res.duration_s > expected * 0.95


def test_streaming_yields_header_then_audio(profile) -> None:
    synth = Synthesizer(profile, config=cfg())
    text = "First sentence here. Second sentence follows. Third one ends it."

    async def collect() -> list[bytes]:
        return [part async for part in synth.stream(text)]

    parts = asyncio.run(collect())
    assert parts[0][:4] == b"RIFF" and len(parts) >= 3
    samples, sr = decode_bytes(b"".join(parts))
    whole, _ = decode_bytes(synth.synthesize(text).audio)
    assert sr == 22050 and abs(len(samples) - len(whole)) < 50
    assert np.allclose(samples[:1000], whole[:1000], atol=2e-4)


def test_emotion_picks_reference(profile) -> None:
    make_voice(profile, "owner", tone(pitch=150), emotions={"happy": tone(pitch=260)})
    from twin.voice.synth.voices import resolve_voice

    assert resolve_voice(profile, "owner", "happy").spec.reference_audio.name == "happy.wav"
    assert resolve_voice(profile, "owner", "sad").spec.reference_audio.name == "reference.wav"


def test_bad_input(profile) -> None:
    synth = Synthesizer(profile, config=cfg())
    with pytest.raises(InvalidInput):
        synth.synthesize("   ")
    with pytest.raises(InvalidInput):
        synth.synthesize("hi", fmt="ogg")
