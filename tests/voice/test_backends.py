"""The embedded engines the voice library and the voice loop share: STT, VAD, speaker, denoise."""

from __future__ import annotations

import numpy as np
import pytest
from tests.voice.conftest import SENTENCES, SR, tone

from twin.errors import InvalidInput
from twin.providers import registry
from twin.providers.speaker import cosine


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - Path
    return tmp_path_factory.mktemp("models")


def test_registry_names() -> None:
    assert "faster_whisper" in registry.names("stt")
    assert {"silero", "energy"} <= set(registry.names("vad"))
    assert "resemblyzer" in registry.names("speaker") and "rnnoise" in registry.names("denoise")
    with pytest.raises(InvalidInput, match="Known stt backends"):
        registry.create("stt", "nope")


def test_whisper_tiny_transcribes(say, models_dir) -> None:
    stt = registry.create("stt", "faster_whisper", model="tiny.en", cache_dir=models_dir)
    tr = stt.transcribe(say(SENTENCES[0]), SR)
    words = tr.text.lower()
    assert sum(w in words for w in ("quick", "fox", "lazy", "dog", "river")) >= 3
    assert 0.3 < tr.confidence <= 1.0 and tr.segments and tr.language == "en"
    silent = stt.transcribe(np.zeros(SR * 2, dtype=np.float32), SR)
    assert silent.confidence < tr.confidence


@pytest.mark.slow
def test_whisper_base_joined_once(say, models_dir) -> None:
    stt = registry.create("stt", "faster_whisper", model="base", cache_dir=models_dir)
    assert "fox" in stt.transcribe(say(SENTENCES[0]), SR).text.lower()
    model = models_dir / "whisper-base" / "model.bin"
    mtime = model.stat().st_mtime_ns
    registry.create("stt", "faster_whisper", model="base", cache_dir=models_dir).load()
    assert model.stat().st_mtime_ns == mtime


def test_whisper_bad_model_path(tmp_path) -> None:
    stt = registry.create("stt", "faster_whisper", model=str(tmp_path), cache_dir=tmp_path)
    with pytest.raises(InvalidInput, match="CTranslate2"):
        stt.load()


@pytest.mark.parametrize("name", ["silero", "energy"])
def test_vad_finds_speech_not_silence(say, name: str) -> None:
    vad = registry.create("vad", name)
    speech = say(SENTENCES[1])
    x = np.concatenate([np.zeros(SR), speech, np.zeros(SR)]).astype(np.float32)
    x += np.random.default_rng(0).standard_normal(len(x)).astype(np.float32) * 1e-4
    regions = vad.speech_regions(x, SR)
    assert regions
    assert regions[0][0] == pytest.approx(1.0, abs=0.3)
    assert regions[-1][1] == pytest.approx(1.0 + len(speech) / SR, abs=0.4)
    assert vad.speech_regions(np.zeros(SR * 2, dtype=np.float32), SR) == []


def test_silero_streaming_matches_batch(say) -> None:
    from twin.audio.resample import resample

    vad = registry.create("vad", "silero")
    x16 = resample(say(SENTENCES[2]), SR, 16000)
    x16 = x16[: len(x16) // 512 * 512]
    batch, _ = vad.speech_probs(x16, 16000)
    stream = vad.stream()
    probs = [p for i in range(0, len(x16), 700) for p in stream.feed(x16[i : i + 700])]
    assert np.allclose(probs, batch[: len(probs)], atol=1e-5)


def test_resemblyzer_tells_speakers_apart(say) -> None:
    enc = registry.create("speaker", "resemblyzer")
    a1 = enc.embed(say(SENTENCES[0], "en-us"), SR)
    a2 = enc.embed(say(SENTENCES[3], "en-us"), SR)
    b = enc.embed(say(SENTENCES[0], "en-us+f3"), SR)
    assert a1.shape == (256,) and a1.dtype == np.float32
    assert cosine(a1, a2) > cosine(a1, b)
    with pytest.raises(InvalidInput):
        enc.embed(np.zeros(1000, dtype=np.float32), SR)


def test_rnnoise_reduces_noise_keeps_length() -> None:
    den = registry.create("denoise", "rnnoise")
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(SR * 2).astype(np.float32) * 0.02
    out = den.denoise(noise, SR)
    assert len(out) == len(noise) and out.dtype == np.float32
    assert np.sqrt(np.mean(out[SR // 2 :] ** 2)) < 0.5 * np.sqrt(np.mean(noise[SR // 2 :] ** 2))
    t = tone(1.0, level=0.3)
    assert len(den.denoise(t, SR)) == len(t)
