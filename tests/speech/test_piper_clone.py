"""The embedded engines for real: Piper's base voice and the WORLD-based clone (zero-shot and trained).
The stand-in "owner" is the base voice transformed with WORLD (higher F0, formants moved up), so the
tests know exactly where a good converter must land.

Piper samples random VITS noise into every reading (pitch and timing change from one reading of a text
to the next), so these tests read with that noise off (tts.json engine settings): every run hears the
same audio and compares the clone with exactly the base reading it converted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from speech.conftest import make_voice, needs_piper
from twin.audio.decode import decode_bytes
from twin.voice.synth import Synthesizer
from twin.voice.synth.config import TTSConfig, save_config

pytestmark = needs_piper
RATE = 22050
F0_RATIO, WARP = 1.6, 1.12
STEADY = {"noise_scale": 0.0, "noise_w_scale": 0.0}


def base_read(text: str) -> np.ndarray:
    """The base voice reading `text` without random variation (the clone engine's measuring reading)."""
    from twin.backends.tts_clone import CloneTTS

    return CloneTTS().base_reading(text)


def as_owner(audio: np.ndarray) -> np.ndarray:
    from twin.audio import world

    f = world.analyze(audio, RATE)
    return world.synthesize(f.f0 * F0_RATIO, world.warp_envelope(f.sp, WARP), f.ap, RATE)


def median_f0(audio: np.ndarray) -> float:
    """Measured with WORLD's harvest tracker: slower than the dio used for conversion, but free of the octave
    errors that make dio's reading of a single utterance swing by tens of hertz."""
    import pyworld

    f0, _t = pyworld.harvest(np.ascontiguousarray(audio, dtype=np.float64), RATE, f0_floor=60.0, f0_ceil=600.0)
    return float(np.median(f0[f0 > 0]))


@pytest.fixture
def steady(profile):
    """The profile's engines read without Piper's random noise, and nothing is cached."""
    engines = {"piper": dict(STEADY), "clone": {"base_options": dict(STEADY)}}
    save_config(profile, TTSConfig(engines=engines, cache_max_mb=0))
    return profile


def test_piper_speaks_at_22050(profile) -> None:
    res = Synthesizer(profile, config=TTSConfig(fallback=["piper"])).synthesize("Hello, this is the base voice.")
    samples, sr = decode_bytes(res.audio)
    assert res.engine == "piper" and sr == 22050 and 1.0 < len(samples) / sr < 5.0
    assert float(np.sqrt(np.mean(samples**2))) > 0.01


def test_piper_noise_is_what_makes_readings_differ() -> None:
    from twin.backends.tts_piper import PiperTTS

    text = "The clone should sound higher than the base voice."

    def read(engine: PiperTTS) -> np.ndarray:
        return np.concatenate([c.samples for c in engine.synthesize_sync(text)])

    noisy = PiperTTS()
    a, b = read(noisy), read(noisy)
    assert len(a) != len(b) or not np.array_equal(a, b)  # the default samples new noise every time
    steady = PiperTTS(**STEADY)
    assert np.array_equal(read(steady), read(steady))
    assert steady.engine_id != noisy.engine_id  # cached audio of one never answers for the other


def test_log_f0_statistics_ignore_octave_errors() -> None:
    from twin.audio import world

    rng = np.random.default_rng(0)
    f0 = np.exp(rng.normal(np.log(120.0), 0.1, 2000))
    wrong = f0.copy()
    wrong[rng.random(len(f0)) < 0.15] *= 2.0  # dio reads some frames an octave up
    centre, spread = world.logf0_stats(f0)
    centre_w, spread_w = world.logf0_stats(wrong)
    assert np.exp(centre) == pytest.approx(120.0, rel=0.02) and spread == pytest.approx(0.1, rel=0.1)
    assert np.exp(centre_w) == pytest.approx(120.0, rel=0.06)  # the mean would be ~134 Hz
    assert spread_w < 0.14  # the standard deviation would be ~0.29


def test_zero_shot_clone_moves_pitch_toward_reference(steady) -> None:
    from twin.voice.synth.engine_loop import reset_backends

    reference = as_owner(base_read("This is my reference recording, spoken slowly and clearly."))
    make_voice(steady, "owner", reference)
    text = "The clone should sound higher than the base voice."
    res = Synthesizer(steady).synthesize(text, voice_id="owner")
    assert res.engine == "clone" and res.fallbacks == [] and not res.cache_hit
    reset_backends()  # a fresh engine (new calibration) speaks exactly the same
    assert Synthesizer(steady).synthesize(text, voice_id="owner").audio == res.audio
    cloned, _ = decode_bytes(res.audio)
    target = median_f0(reference)  # the owner's pitch, measured on the clip the clone was given
    base = median_f0(base_read(text))  # the very reading the clone converted
    assert target > 1.4 * base
    assert abs(median_f0(cloned) - target) < 0.5 * abs(base - target)  # at least half the gap closed


TEXTS = [
    "Good morning, how are you today?",
    "I am going to the shop for some bread.",
    "The weather is lovely this afternoon.",
    "Please call me back when you can.",
    "We will meet at the station at noon.",
    "That was the best dinner I have had.",
]


def test_trained_converter_beats_base_on_unseen_text(steady) -> None:
    from twin.audio import world
    from twin.audio.encode import save_wav
    from twin.backends.tts_clone_gmm import ARRAYS, META
    from twin.voice.clone.training import Utterance, train_voice
    from twin.voice.config import VoiceConfig, save_voice_config

    config = VoiceConfig()
    config.train.stt_model = "tiny.en"
    save_voice_config(steady, config)
    utts = []
    for i, text in enumerate(TEXTS):
        path = save_wav(steady.voice_dir / "clean" / "neutral" / f"c{i}.wav", as_owner(base_read(text)), RATE)
        utts.append(Utterance(f"clip-{i}", path, text))
    folder = make_voice(steady, "owner", as_owner(base_read("Reference clip for the owner voice.")))
    report = train_voice(steady, "owner", utterances=utts, components=2)
    assert report.trained_on + report.held_out == len(TEXTS) and report.frames > 200
    assert report.activated and not report.forced and report.gate and report.gate["passed"]
    assert {c["name"] for c in report.gate["checks"]} == {"intelligibility", "similarity"}
    conv = folder / "converter"
    assert (conv / ARRAYS).is_file() and json.loads((conv / META).read_text())["pairs"] == report.trained_on
    assert not (folder / "converter.candidate").exists()
    np.load(conv / ARRAYS, allow_pickle=False).close()  # plain arrays, never pickles

    text = "Nobody has heard this sentence before."
    owner = world.analyze(as_owner(base_read(text)), RATE).mcep()[:, 1:].mean(axis=0)
    res = Synthesizer(steady).synthesize(text, voice_id="owner")
    converted, _ = decode_bytes(res.audio)
    conv_mean = world.analyze(converted, RATE).mcep()[:, 1:].mean(axis=0)
    base_mean = world.analyze(base_read(text), RATE).mcep()[:, 1:].mean(axis=0)
    assert np.linalg.norm(conv_mean - owner) < np.linalg.norm(base_mean - owner) * 0.7


@pytest.mark.slow
def test_long_text_last_words_heard_by_stt(profile) -> None:
    from twin.providers import registry

    text = (
        "This is a long passage that the synthesizer must split into several pieces. " * 6
        + "It ends with purple elephants dancing."
    )
    res = Synthesizer(profile, config=TTSConfig(fallback=["piper"])).synthesize(text)
    samples, sr = decode_bytes(res.audio)
    tail = samples[-int(sr * 4) :]
    heard = registry.create("stt", "faster_whisper").transcribe(tail, sr).text.lower()
    assert "elephants" in heard or "dancing" in heard
