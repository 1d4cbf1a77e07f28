"""`twin tts-server` has the main app's guards: a key of its profile on every route but /health,
Host/Origin checks, body limits, and JSON only with a JSON content type."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from speech import tts_helpers
from speech.conftest import make_voice, tone
from twin.api.config import ServerSettings
from twin.api.tts_server import build_tts_app
from twin.audio.encode import save_wav
from twin.keys import KeyStore
from twin.profiles import Profile, ProfileManager
from twin.providers import registry
from twin.settings import load_settings
from twin.voice.synth.config import TTSConfig, save_config
from twin.voice.synth.engine_loop import reset_backends


class Server:
    def __init__(self, client: TestClient, profile: Profile, key: str, other_key: str) -> None:
        self.client, self.profile = client, profile
        self.auth = {"Authorization": "Bearer " + key}
        self.other = {"Authorization": "Bearer " + other_key}


@pytest.fixture
def server() -> Iterator[Server]:
    reset_backends()
    settings = load_settings()
    pm = ProfileManager(settings)
    profile, _ = pm.create("speaker"), pm.create("other")
    registry.register("tts", "scripted", "speech.tts_helpers:ScriptedTTS")
    tts_helpers.CALLS.clear()
    save_config(profile, TTSConfig(engine="scripted", fallback=[]))
    keys = KeyStore(settings)
    key, other = keys.create("speaker").secret, keys.create("other").secret
    keys.close()
    app = build_tts_app(profile, settings=settings, server=ServerSettings(max_body_bytes=4096, max_upload_bytes=2**20))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Server(client, profile, key, other)
    reset_backends()


def test_json_multipart_and_errors(server: Server) -> None:
    client, auth = server.client, server.auth
    make_voice(server.profile, "owner", tone())
    assert client.get("/health").json() == {"status": "ok"}
    resp = client.post("/tts", headers=auth, json={"text": "Hello server.", "voice_id": "owner"})
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/wav"
    assert resp.headers["x-tts-engine"] == "scripted" and resp.content[:4] == b"RIFF"
    ref = save_wav(server.profile.root / "r.wav", tone(1.0), 22050).read_bytes()
    resp = client.post(
        "/tts",
        headers=auth,
        json={"text": "With a clip.", "reference": base64.b64encode(ref).decode(), "format": "mp3"},
    )
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/mpeg"
    resp = client.post(
        "/tts", headers=auth, data={"text": "Multipart."}, files={"reference": ("r.wav", ref, "audio/wav")}
    )
    assert resp.status_code == 200
    resp = client.post("/tts", headers=auth, json={"text": "x", "reference": "@@not-base64@@"})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_input"
    assert client.post("/tts", headers=auth, json={"text": "x", "voice_id": "nobody"}).status_code == 404
    streamed = client.post("/tts", headers=auth, json={"text": "Streamed reply. Two parts.", "stream": True})
    assert streamed.status_code == 200 and streamed.content[:4] == b"RIFF"


@pytest.mark.parametrize("who", [None, "Bearer twin_sk_" + "x" * 43, "other"])
def test_every_speaking_route_needs_a_key_of_this_profile(server: Server, who: str | None) -> None:
    headers = server.other if who == "other" else ({"Authorization": who} if who else {})
    r = server.client.post("/tts", headers=headers, json={"text": "Say something in my voice."})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert tts_helpers.CALLS == []


def test_a_web_page_cannot_make_it_speak(server: Server) -> None:
    # A cross-site form post: text/plain needs no CORS preflight, so both guards must hold.
    page = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    r = server.client.post("/tts", headers={**server.auth, **page}, content=b'{"text": "hi"}')
    assert r.status_code == 403 and r.json()["error"]["code"] == "bad_origin"
    r = server.client.post("/tts", headers={**server.auth, "Content-Type": "text/plain"}, content=b'{"text": "hi"}')
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_format"
    r = server.client.post("/tts", headers={**server.auth, "Host": "evil.example"}, json={"text": "hi"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_host"
    assert tts_helpers.CALLS == []


def test_body_limits(server: Server) -> None:
    big = {"text": "x", "reference": "A" * 2_000_000}
    r = server.client.post("/tts", headers=server.auth, json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    def chunks():  # noqa: ANN202 - no Content-Length
        for _ in range(40):
            yield b"A" * 65536

    r = server.client.post("/tts", headers={**server.auth, "Content-Type": "application/json"}, content=chunks())
    assert r.status_code == 413
