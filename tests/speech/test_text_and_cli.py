"""Text normalization, the tts-server app, engine lifecycle and the speech CLI."""

from __future__ import annotations

import base64
import json
import sys

import pytest
from typer.testing import CliRunner

from speech import tts_helpers
from speech.conftest import make_voice, tone
from twin.providers import registry
from twin.voice.synth.config import TTSConfig, save_config
from twin.voice.synth.normalize import normalize_text, number_words, ordinal_words


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("I have 3 cats.", "I have three cats."),
        ("It costs $12.50 now", "It costs twelve dollars and fifty cents now"),
        ("Born 1984-07-04.", "Born July fourth, nineteen eighty-four."),
        ("Meet at 5:30 pm", "Meet at five thirty p m"),
        ("Dr. Smith & Mr. Jones", "doctor Smith and mister Jones"),
        ("Up 15% in the 1990s", "Up fifteen percent in the nineteen nineties"),
        ("The 21st of 1,250,000 runners", "The twenty-first of one million two hundred fifty thousand runners"),
        ("Pi is 3.14", "Pi is three point one four"),
    ],
)
def test_normalize(text: str, spoken: str) -> None:
    assert normalize_text(text) == spoken


def test_number_helpers() -> None:
    assert number_words(0) == "zero" and number_words(-7) == "minus seven"
    assert ordinal_words(12) == "twelfth" and ordinal_words(40) == "fortieth"
    assert normalize_text("12 ans", language="fr") == "12 ans"


@pytest.fixture
def scripted(profile):
    registry.register("tts", "scripted", "speech.tts_helpers:ScriptedTTS")
    tts_helpers.CALLS.clear()
    save_config(profile, TTSConfig(engine="scripted", fallback=[]))
    return profile


def test_tts_server_json_multipart_and_errors(scripted) -> None:
    from fastapi.testclient import TestClient

    from twin.audio.encode import save_wav
    from twin.voice.synth.server import build_tts_app

    make_voice(scripted, "owner", tone())
    client = TestClient(build_tts_app(scripted))
    assert client.get("/health").json()["status"] == "ok"
    resp = client.post("/tts", json={"text": "Hello server.", "voice_id": "owner"})
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/wav"
    assert resp.headers["x-tts-engine"] == "scripted" and resp.content[:4] == b"RIFF"
    ref = save_wav(scripted.root / "r.wav", tone(1.0), 22050).read_bytes()
    resp = client.post(
        "/tts", json={"text": "With a clip.", "reference": base64.b64encode(ref).decode(), "format": "mp3"}
    )
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/mpeg"
    resp = client.post("/tts", data={"text": "Multipart."}, files={"reference": ("r.wav", ref, "audio/wav")})
    assert resp.status_code == 200
    resp = client.post("/tts", json={"text": "x", "reference": "@@not-base64@@"})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_input"
    assert client.post("/tts", json={"text": "x", "voice_id": "nobody"}).status_code == 404
    streamed = client.post("/tts", json={"text": "Streamed reply. Two parts.", "stream": True})
    assert streamed.status_code == 200 and streamed.content[:4] == b"RIFF"


def test_engine_lifecycle(profile, tmp_path) -> None:
    from twin.settings import load_settings
    from twin.voice.engines import EngineManager

    script = tmp_path / "engine.py"
    script.write_text(
        "import sys\nfrom twin.backends import fake_tts_gptsovits\n"
        "srv = fake_tts_gptsovits.serve()\nopen(sys.argv[1], 'w').write(srv.url)\n"
        "print('engine up', flush=True)\nsrv.serve_forever()\n"
    )
    url_file = tmp_path / "url.txt"
    engines = {"gptsovits": {"command": [sys.executable, str(script), str(url_file)]}}
    mgr = EngineManager(load_settings(), engines)
    assert not mgr.status("gptsovits").running
    st = mgr.start("gptsovits")
    try:
        assert st.running and st.pid and mgr.pid_file("gptsovits").is_file()
        import time

        for _ in range(100):
            if url_file.is_file() and url_file.read_text():
                break
            time.sleep(0.1)
        engines["gptsovits"]["health_url"] = url_file.read_text() + "/docs"
        assert mgr.status("gptsovits").healthy is True
        for _ in range(50):
            if "engine up" in mgr.logs("gptsovits"):
                break
            time.sleep(0.1)
        assert "engine up" in mgr.logs("gptsovits")
    finally:
        stopped = mgr.stop("gptsovits")
    assert not stopped.running and not mgr.pid_file("gptsovits").exists()


def test_speak_cli_json(scripted, tmp_path, monkeypatch) -> None:
    from twin.cli.main import app

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "hi.mp3"
    result = CliRunner().invoke(
        app, ["speak", "Hi there, 2 times.", "--profile", "speaker", "--format", "mp3", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    meta = json.loads(result.output)
    assert meta["engine"] == "scripted" and meta["sample_rate"] == 22050 and meta["cache_hit"] is False
    assert {"duration_s", "first_audio_s", "rtf"} <= set(meta) and out.read_bytes() == out.read_bytes()[:]
    again = CliRunner().invoke(
        app, ["speak", "Hi there, 2 times.", "--profile", "speaker", "--format", "mp3", "--out", str(out), "--json"]
    )
    assert json.loads(again.output)["cache_hit"] is True
    bad = CliRunner().invoke(app, ["speak", "x", "--profile", "speaker", "--voice", "nobody", "--json"])
    assert bad.exit_code == 2 and json.loads(bad.output)["error"]["code"] == "not_found"
