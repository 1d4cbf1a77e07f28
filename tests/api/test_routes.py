"""Happy paths and validation errors of every route (TestClient)."""

from __future__ import annotations

import base64
import json

import pytest

from .conftest import Env, speech_wav, tone_wav


def test_health(env: Env) -> None:
    r = env.client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_engines(env: Env) -> None:
    engines = env.client.get("/api/engines", headers=env.auth()).json()["engines"]
    llm = [e for e in engines if e["capability"] == "llm" and e["configured"]]
    assert [e["name"] for e in llm] == ["fake"]
    # An in-process engine has nothing to reach: it is installed (a module check), never "reachable".
    assert llm[0]["kind"] == "in_process" and llm[0]["installed"] and llm[0]["reachable"] is None
    assert llm[0]["probe"] == {
        "target": "in-process",
        "method": "import check",
        "ok": True,
        "result": "installed",
        "latency_ms": None,
    }
    assert {e["capability"] for e in engines} == {"llm", "tts", "stt"}


def test_models(env: Env) -> None:
    r = env.client.get("/v1/models", headers=env.auth())
    card = {"object": "model", "created": 0, "owned_by": "twin"}
    # the engine's models, then one persona:<name> per persona (every profile has the builtin twin)
    assert r.json() == {"object": "list", "data": [{"id": "fake", **card}, {"id": "persona:twin", **card}]}


def test_chat_completion(env: Env) -> None:
    r = env.client.post(
        "/v1/chat/completions",
        headers=env.auth(),
        json={
            "model": "twin",
            "messages": [{"role": "user", "content": "see you at eight"}],
            "temperature": 0.2,
            "top_p": 0.9,
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "see you at eight"}
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_chat_completion_stream(env: Env) -> None:
    with env.client.stream(
        "POST",
        "/v1/chat/completions",
        headers=env.auth(),
        json={"model": "twin", "stream": True, "messages": [{"role": "user", "content": "one two three"}]},
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "one two three"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"model": "m", "messages": []},
        {"model": "m", "messages": [{"role": "robot", "content": "x"}]},
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 9},
    ],
)
def test_chat_validation(env: Env, body: dict) -> None:
    r = env.client.post("/v1/chat/completions", headers=env.auth(), json=body)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_input" and err["message"] and err["hint"]


def test_clone_wav_and_mp3(env: Env) -> None:
    r = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Hello there.", "format": "wav"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav" and r.content[:4] == b"RIFF" and len(r.content) > 4000
    again = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Hello there.", "format": "wav"})
    assert again.headers.get("x-cache") == "hit" and again.content == r.content
    mp3 = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Hello there.", "format": "mp3"})
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.content[:3] == b"ID3" or mp3.content[0] == 0xFF


def test_clone_stream_is_chunked(env: Env) -> None:
    with env.client.stream(
        "POST", "/api/tts/clone", headers=env.auth(), json={"text": "Streaming speech, in pieces.", "stream": True}
    ) as r:
        assert r.status_code == 200
        assert "content-length" not in r.headers
        data = b"".join(r.iter_bytes())
    assert data[:4] == b"RIFF" and len(data) > 4000


def test_clone_with_reference_audio(env: Env) -> None:
    ref = base64.b64encode(tone_wav(2.0)).decode()
    r = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Hi.", "reference_audio": ref})
    # No external engine is configured: the embedded clone engine speaks the one-off clip.
    assert r.status_code == 200, r.text
    assert r.content[:4] == b"RIFF" and r.headers["x-twin-engine"] == "clone"


def test_clone_when_the_only_engine_is_down_is_503(twin_home) -> None:  # noqa: ANN001
    from twin.profiles import ProfileManager
    from twin.voice.synth.config import TTSConfig, save_config

    from .conftest import closed_port, make_env

    e = make_env(twin_home, tts_engine="xtts")
    url = f"http://127.0.0.1:{closed_port()}"
    save_config(ProfileManager(e.settings).get("alice"), TTSConfig(engines={"xtts": {"base_url": url}}))
    ref = base64.b64encode(tone_wav(2.0)).decode()
    r = e.client.post("/api/tts/clone", headers=e.auth(), json={"text": "Hi.", "reference_audio": ref})
    assert r.status_code == 503, r.text
    err = r.json()["error"]
    assert err["code"] == "unavailable" and "xtts" in err["message"] and err["hint"]


@pytest.mark.parametrize(
    "body,status",
    [
        ({"text": ""}, 422),
        ({"text": "hi", "format": "ogg"}, 422),
        ({"text": "hi", "unknown": 1}, 422),
        ({"text": "hi", "reference_audio": "!!notbase64!!"}, 422),
        ({"text": "hi", "reference_audio": base64.b64encode(b"not audio" * 20).decode()}, 415),
        ({"text": "hi", "voice_id": "v1", "reference_audio": "AAAA"}, 422),
    ],
)
def test_clone_validation(env: Env, body: dict, status: int) -> None:
    r = env.client.post("/api/tts/clone", headers=env.auth(), json=body)
    assert r.status_code == status, r.text
    assert set(r.json()["error"]) >= {"code", "message", "hint"}


def test_unknown_voice_is_404(env: Env) -> None:
    r = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "hi", "voice_id": "nobody"})
    assert r.status_code == 404, r.text
    r = env.client.post("/v1/audio/speech", headers=env.auth(), json={"model": "t", "input": "hi", "voice": "nobody"})
    assert r.status_code == 404


def test_openai_speech(env: Env) -> None:
    r = env.client.post(
        "/v1/audio/speech",
        headers=env.auth(),
        json={"model": "tts-1", "input": "Good morning.", "voice": "default", "response_format": "wav"},
    )
    assert r.status_code == 200 and r.content[:4] == b"RIFF"


def test_upload_rejects_non_audio(env: Env) -> None:
    r = env.client.post(
        "/api/voice/upload",
        headers=env.auth(),
        files={"file": ("x.wav", b"RIFF\x00\x00\x00\x00WAVEjunk" * 4, "audio/wav")},
    )
    assert r.status_code in (415, 422)
    r = env.client.post("/api/voice/upload", headers=env.auth(), files={"file": ("x.wav", b"", "audio/wav")})
    assert r.status_code == 422
    r = env.client.post("/api/voice/upload", headers=env.auth(), data={"emotion": "neutral"})
    assert r.status_code == 422
    r = env.client.post(
        "/api/voice/upload",
        headers=env.auth(),
        files={"file": ("a.wav", tone_wav(), "audio/wav")},
        data={"emotion": "Not An Emotion!"},
    )
    assert r.status_code == 422


def test_upload_creates_voice(env: Env) -> None:
    r = env.client.post(
        "/api/voice/upload",
        headers=env.auth(),
        files={"file": ("me.wav", speech_wav(), "audio/wav")},
        data={"emotion": "happy", "name": "me"},
    )
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["voice_id"] and v["duration_s"] > 0
    listed = env.client.get("/api/voice", headers=env.auth()).json()["voices"]
    assert v["voice_id"] in [x["voice_id"] for x in listed]
    assert env.client.delete(f"/api/voice/{v['voice_id']}", headers=env.auth()).status_code == 204


def test_generate_draft(env: Env) -> None:
    r = env.client.post("/api/tts/lora/generate", headers=env.auth(), json={"prompt": "Say yes to the hike"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] and body["model"] == "fake" and body["usage"]["completion_tokens"] > 0
    with env.client.stream(
        "POST", "/api/tts/lora/generate", headers=env.auth(), json={"prompt": "Say yes to the hike", "stream": True}
    ) as s:
        events = [json.loads(line[6:]) for line in s.iter_lines() if line.startswith("data: ")]
    assert events[-1]["done"] and "".join(e.get("delta", "") for e in events[:-1]) == events[-1]["text"]


def test_pipeline(env: Env) -> None:
    r = env.client.post("/api/tts/pipeline", headers=env.auth(), json={"prompt": "Say hello"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert base64.b64decode(body["audio_base64"])[:4] == b"RIFF" and body["text"]
    with env.client.stream(
        "POST", "/api/tts/pipeline", headers=env.auth(), json={"prompt": "Say hello", "stream": True, "format": "mp3"}
    ) as s:
        events = [json.loads(line) for line in s.iter_lines() if line.strip()]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "text" and "audio" in kinds and kinds[-1] == "done"


def test_generate_validation(env: Env) -> None:
    for body in ({}, {"prompt": ""}, {"prompt": "x", "max_tokens": 0}, {"prompt": "x", "temperature": -1}):
        assert env.client.post("/api/tts/lora/generate", headers=env.auth(), json=body).status_code == 422
    assert env.client.post("/api/tts/pipeline", headers=env.auth(), json={"prompt": ""}).status_code == 422


def test_unknown_route_and_method(env: Env) -> None:
    r = env.client.get("/api/nothing", headers=env.auth())
    assert r.status_code == 404 and r.json()["error"]["code"] == "http_404"
    assert env.client.get("/api/tts/clone", headers=env.auth()).status_code == 405


def test_openapi_declares_errors(env: Env) -> None:
    schema = env.client.get("/api/openapi.json", headers=env.auth()).json()
    for path, ops in schema["paths"].items():
        for op in ops.values():
            codes = set(op["responses"])
            if path != "/api/health":
                assert {"401", "422"} <= codes, path
                assert op.get("security"), path
    assert "413" in schema["paths"]["/api/voice/upload"]["post"]["responses"]
    assert "404" in schema["paths"]["/api/voice/{voice_id}"]["get"]["responses"]


def test_engines_are_closed_with_the_app(twin_home) -> None:  # noqa: ANN001
    import importlib

    from twin.providers import registry

    from .conftest import make_env

    RecordsClose = importlib.import_module("api.helpers").RecordsClose  # the module the registry loads
    registry.register("llm", "closing", "api.helpers:closing_llm")
    RecordsClose.closed.clear()
    e = make_env(twin_home, llm_backend="closing")
    with e.client:
        assert e.client.get("/v1/models", headers=e.auth()).json()["data"][0]["id"] == "closing"
        assert RecordsClose.closed == []
    assert RecordsClose.closed == ["closing"]
