"""Reference recordings are bounded: a long one is trimmed to the window with the most speech, decoded a
block at a time (memory stays small), one over the limit is refused from its header, and the cache of
trimmed clips stays under its cap — for every way a reference arrives (synthesizer, `twin speak
--reference`, `twin voice create --reference`, the tts-server)."""

from __future__ import annotations

import base64
import json
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tests.voice.conftest import SENTENCES, SR
from typer.testing import CliRunner

from speech import tts_helpers
from twin.cli.main import app
from twin.errors import TooLarge
from twin.providers import registry
from twin.voice.config import VoiceConfig, save_voice_config
from twin.voice.synth.config import TTSConfig, save_config

runner = CliRunner()


def write_long(path: Path, say, total_s: float, dense_at: float, sr: int = SR, tone_at: float | None = None) -> Path:
    """A long recording written block by block (never whole in memory): a little speech once a minute,
    30 s of continuous speech starting at `dense_at` and, with `tone_at`, 30 s of a loud steady hum."""
    speech = np.concatenate([say(s) for s in SENTENCES[:4]])
    rng = np.random.default_rng(0)
    block_s = 5.0
    with sf.SoundFile(path, "w", sr, 1, "PCM_16") as f:
        t = 0.0
        while t < total_s:
            block = rng.standard_normal(int(block_s * sr)).astype(np.float32) * 3e-4
            if tone_at is not None and tone_at <= t < tone_at + 30:
                hum = np.arange(len(block)) / sr
                block += (0.3 * np.sign(np.sin(2 * np.pi * 120 * hum))).astype(np.float32)
            elif dense_at <= t < dense_at + 30:
                offset = int((t - dense_at) * SR) % len(speech)
                piece = np.roll(speech, -offset)[: len(block)]
                block[: len(piece)] += piece
            elif int(t) % 60 == 0:
                block[: len(speech) // 8] += speech[: len(speech) // 8]
            f.write(block)
            t += block_s
    return path


def sparse_wav(path: Path, seconds: float, sr: int = 16000) -> Path:
    """A valid 16-bit WAV header declaring `seconds` of audio over a sparse file (no disk used)."""
    data = int(seconds * sr) * 2
    header = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, sr, 2 * sr, 2, 16)
    with path.open("wb") as f:
        f.write(header + b"data" + struct.pack("<I", data))
        f.truncate(44 + data)
    return path


@pytest.fixture
def energy_config(profile) -> VoiceConfig:
    config = VoiceConfig()
    config.prepare.vad.backend = "energy"
    save_voice_config(profile, config)
    return config


@pytest.fixture
def scripted(profile):
    registry.register("tts", "scripted", "speech.tts_helpers:ScriptedTTS")
    tts_helpers.CALLS.clear()
    save_config(profile, TTSConfig(engine="scripted", fallback=[]))
    return profile


def test_long_reference_is_trimmed_with_bounded_memory(tmp_path: Path, say, energy_config) -> None:
    from twin.voice.reference import load_reference

    total = 9 * 60.0
    path = write_long(tmp_path / "long.wav", say, total, dense_at=360.0)
    tracemalloc.start()
    try:
        clip = load_reference(path, energy_config)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert clip.trimmed and clip.source_s == pytest.approx(total, abs=0.1)
    assert clip.duration_s == pytest.approx(30.0, abs=0.05) and clip.sample_rate == 22050
    assert 358.5 <= clip.start_s <= 361.0 and clip.speech_s and clip.speech_s > 20
    whole = total * 22050 * 4  # the recording decoded at once as float32
    assert peak < whole / 4, f"peak {peak / 1e6:.1f} MB"


def test_silero_picks_speech_over_a_louder_hum(tmp_path: Path, say, profile) -> None:
    from twin.voice.reference import choose_window, load_reference

    path = write_long(tmp_path / "two-min.wav", say, 150.0, dense_at=100.0, sr=16000, tone_at=20.0)
    energy = VoiceConfig()
    energy.prepare.vad.backend = "energy"
    assert 18.5 <= choose_window(path, energy, "x")[0] <= 21.0  # to the energy scan the hum looks best
    clip = load_reference(path, VoiceConfig())  # the default VAD, silero, ranks the candidates
    assert 98.5 <= clip.start_s <= 101.0 and clip.duration_s == pytest.approx(30.0, abs=0.05)


def test_reference_over_the_limit_is_refused_before_decoding(tmp_path: Path, profile, monkeypatch) -> None:
    from twin.audio import decode
    from twin.voice.synth.voices import resolve_reference

    def no_decode(*_a: object, **_k: object) -> None:
        raise AssertionError("decoded a reference that is over the limit")

    monkeypatch.setattr(decode, "_native_blocks", no_decode)
    hour = sparse_wav(tmp_path / "meeting.wav", 3600.0)
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge) as err:
            resolve_reference(profile, hour)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024**2
    assert err.value.message.startswith("meeting.wav: 3600 s is too long") and "600 s" in err.value.message
    assert "max_input_s" in err.value.hint and str(tmp_path) not in err.value.message
    config = VoiceConfig()
    config.reference.max_input_s = 120.0
    save_voice_config(profile, config)
    with pytest.raises(TooLarge, match="limit is 120 s"):
        resolve_reference(profile, sparse_wav(tmp_path / "three-min.wav", 180.0).read_bytes())
    assert not (profile.voice_dir / "cache" / "refs").exists()


def test_reference_cache_is_bounded_and_least_recently_used_goes(tmp_path: Path, say, profile) -> None:
    from twin.voice.synth.voices import resolve_reference

    config = VoiceConfig()
    config.prepare.vad.backend = "energy"
    config.reference.cache_max_mb = 3.0  # room for two trimmed 30 s clips (1.3 MB each)
    save_voice_config(profile, config)
    refs = profile.voice_dir / "cache" / "refs"
    clips = [write_long(tmp_path / f"r{i}.wav", say, 40.0 + 5 * i, dense_at=5.0) for i in range(4)]
    first = resolve_reference(profile, clips[0]).spec.reference_audio
    second = resolve_reference(profile, clips[1]).spec.reference_audio
    assert first and second and first != second
    assert resolve_reference(profile, clips[0].read_bytes()).spec.reference_audio == first  # same content: a hit
    assert len(list(refs.glob("*.wav"))) == 2
    third = resolve_reference(profile, clips[2]).spec.reference_audio
    assert third and third.is_file() and first.is_file() and not second.is_file()  # r1 was least recently used
    resolve_reference(profile, clips[3])
    files = list(refs.glob("*.wav"))
    assert len(files) == 2 and sum(f.stat().st_size for f in files) <= 3 * 1024**2
    assert all(sf.info(f).duration <= 30.01 for f in files)


def test_speak_with_a_long_reference_and_one_over_the_limit(tmp_path: Path, say, scripted, energy_config) -> None:
    long = write_long(tmp_path / "Voice memo.wav", say, 150.0, dense_at=100.0)
    out = tmp_path / "hi.wav"
    res = runner.invoke(
        app, ["speak", "Hello there.", "-p", scripted.name, "--reference", str(long), "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    meta = json.loads(res.stdout)
    assert meta["engine"] == "scripted" and meta["reference"] == str(long) and out.is_file()
    cached = list((scripted.voice_dir / "cache" / "refs").glob("*.wav"))
    assert len(cached) == 1 and sf.info(cached[0]).duration == pytest.approx(30.0, abs=0.05)

    hour = sparse_wav(tmp_path / "Board meeting.wav", 3600.0)
    res = runner.invoke(app, ["speak", "Hello.", "-p", scripted.name, "--reference", str(hour), "--json"])
    assert res.exit_code == 2
    error = json.loads(res.stdout)["error"]
    assert error["code"] == "too_large" and error["message"].startswith("Board meeting.wav: 3600 s is too long")
    res = runner.invoke(app, ["speak", "Hi.", "-p", scripted.name, "--reference", str(long), "--base", "--json"])
    assert res.exit_code == 2 and "not several" in json.loads(res.stdout)["error"]["message"]


def test_voice_create_from_a_long_reference(tmp_path: Path, say, profile, energy_config) -> None:
    long = write_long(tmp_path / "long take.wav", say, 200.0, dense_at=120.0)
    res = runner.invoke(app, ["voice", "create", "-p", profile.name, "--reference", str(long), "--json"])
    assert res.exit_code == 0, res.output
    voice = json.loads(res.stdout)
    assert voice["source"] == "reference" and 10.0 < voice["duration_s"] <= 30.0
    hour = sparse_wav(tmp_path / "all day.wav", 3600.0)
    res = runner.invoke(app, ["voice", "create", "-p", profile.name, "--reference", str(hour), "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["message"].startswith("all day.wav: 3600 s")
    assert len(list((profile.voice_dir / "profiles").iterdir())) == 1  # the refused one left nothing


def test_tts_server_trims_an_uploaded_reference(tmp_path: Path, say, scripted, energy_config) -> None:
    from fastapi.testclient import TestClient

    from twin.api.tts_server import build_tts_app
    from twin.keys import KeyStore
    from twin.settings import load_settings

    keys = KeyStore(load_settings())
    auth = {"Authorization": "Bearer " + keys.create(scripted.name).secret}
    keys.close()
    data = write_long(tmp_path / "up.wav", say, 100.0, dense_at=50.0, sr=16000).read_bytes()
    client = TestClient(build_tts_app(scripted), base_url="http://127.0.0.1", headers=auth)
    resp = client.post("/tts", json={"text": "With a long clip.", "reference": base64.b64encode(data).decode()})
    assert resp.status_code == 200, resp.text
    cached = list((scripted.voice_dir / "cache" / "refs").glob("*.wav"))
    assert len(cached) == 1 and sf.info(cached[0]).duration == pytest.approx(30.0, abs=0.05)
    hour = sparse_wav(tmp_path / "big.wav", 700.0, sr=8000).read_bytes()
    resp = client.post("/tts", json={"text": "x", "reference": base64.b64encode(hour).decode()})
    assert resp.status_code == 413 and "too long for a reference" in resp.json()["error"]["message"]
