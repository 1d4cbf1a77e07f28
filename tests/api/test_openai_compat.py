"""The OpenAI-compatible routes as OpenAI clients use them: list-of-parts content, the developer role,
max_tokens above 4096, usage chunks, finish reasons, options passed through or refused with a 400,
n choices, voice names and aliases, the audio formats, and the voice/model lists."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from twin.api.config import ServerSettings
from twin.api.main import build_app
from twin.backends.fake_openai import FakeOpenAI
from twin.backends.llm_fake_http import Request, Response

from .conftest import Env, make_env, speech_wav


def _chat(env: Env, **body: Any) -> Any:
    body = {"model": "twin", "messages": [{"role": "user", "content": "one two three four"}], **body}
    return env.client.post("/v1/chat/completions", headers=env.auth(), json=body)


def _events(env: Env, **body: Any) -> list[Any]:
    body = {"model": "twin", "stream": True, "messages": [{"role": "user", "content": "one two three four"}], **body}
    with env.client.stream("POST", "/v1/chat/completions", headers=env.auth(), json=body) as r:
        assert r.status_code == 200, r.read()
        data = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def _llm_calls(env: Env) -> list[list[Any]]:
    """What the fake model was sent (the app's own cached instance)."""
    state = env.client.app.state.twin
    profile = state.profiles.get("alice")
    return state.services.llm(profile).calls


def test_list_of_parts_content_and_developer_role(env: Env) -> None:
    parts = [
        {"type": "text", "text": "first line", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "second line"},
    ]
    messages = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": parts}]
    r = _chat(env, messages=messages)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "first line\nsecond line"
    sent = _llm_calls(env)[-1]
    assert [(m.role, m.content) for m in sent] == [("system", "Be brief."), ("user", "first line\nsecond line")]


@pytest.mark.parametrize(
    "part,what",
    [
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}, "an image"),
        ({"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}, "audio"),
        ({"type": "file", "file": {"file_id": "f1"}}, "a file"),
    ],
)
def test_non_text_parts_are_a_clear_400(env: Env, part: dict, what: str) -> None:
    r = _chat(env, messages=[{"role": "user", "content": [{"type": "text", "text": "what is this?"}, part]}])
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "unsupported_parameter" and f"content[1] is {what}" in err["message"]
    assert "reads text only" in err["message"] and err["hint"]


def test_max_tokens_above_4096_is_clamped_and_length_is_reported(env: Env) -> None:
    big = _chat(env, max_tokens=100_000)
    assert big.status_code == 200, big.text
    assert big.json()["choices"][0]["finish_reason"] == "stop"
    cut = _chat(env, max_completion_tokens=2)
    choice = cut.json()["choices"][0]
    assert choice["message"]["content"] == "one two " and choice["finish_reason"] == "length"
    assert cut.json()["usage"]["completion_tokens"] == 2


def test_stream_usage_chunk_same_model_and_real_finish_reason(env: Env) -> None:
    chunks = _events(env, max_tokens=3, stream_options={"include_usage": True})
    assert {c["model"] for c in chunks} == {"fake"}
    assert all("usage" in c for c in chunks) and all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    # The fake counts like a chat template: 3 reply-primer tokens + 4 per message + the message's 4 words.
    assert last["choices"] == [] and last["usage"] == {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    plain = _events(env)
    assert all("usage" not in c for c in plain) and plain[-1]["choices"][0]["finish_reason"] == "stop"


def test_n_choices_plain_and_streamed(env: Env) -> None:
    body = _chat(env, n=3).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert {c["message"]["content"] for c in body["choices"]} == {"one two three four"}
    assert body["usage"]["completion_tokens"] == 12 and body["usage"]["prompt_tokens"] == 11  # as counted above
    chunks = _events(env, n=2)
    texts: dict[int, str] = {}
    for c in chunks:
        choice = c["choices"][0]
        texts[choice["index"]] = texts.get(choice["index"], "") + choice["delta"].get("content", "")
    assert texts == {0: "one two three four", 1: "one two three four"}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]] == ["stop", "stop"]
    assert _chat(env, n=9).status_code == 422


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]}, "tools"),
        ({"tool_choice": "required"}, "tools"),
        ({"tool_choice": {"type": "function", "function": {"name": "x"}}}, "tools"),
        ({"functions": [{"name": "f", "parameters": {}}]}, "functions"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -1}, "frequency_penalty"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"logprobs": True}, "logprobs"),
        ({"modalities": ["text", "audio"]}, "text only"),
        ({"messages": [{"role": "tool", "tool_call_id": "c1", "content": "22 C"}]}, "tool"),
    ],
)
def test_options_twin_cannot_honour_are_refused(env: Env, extra: dict, field: str) -> None:
    r = _chat(env, **extra)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "unsupported_parameter" and field in err["message"] and err["hint"]


def test_neutral_values_of_unsupported_options_are_accepted(env: Env) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    r = _chat(
        env, tools=tools, tool_choice="none", presence_penalty=0, logprobs=False, response_format={"type": "text"}
    )
    assert r.status_code == 200, r.text


class RecordingOpenAI(FakeOpenAI):
    """The fake OpenAI-compatible server, keeping every chat request body it received."""

    def __init__(self) -> None:
        super().__init__(models=["base-model"])
        self.bodies: list[dict[str, Any]] = []

    def handle(self, req: Request) -> Response:
        if req.path.startswith("/v1/chat/completions"):
            self.bodies.append(req.json())
        return super().handle(req)


@pytest.fixture
def upstream(twin_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Env, RecordingOpenAI]]:
    """twin serving chat from an OpenAI-compatible engine (as with vLLM or llama.cpp server)."""
    base = make_env(twin_home)
    with RecordingOpenAI() as fake:
        monkeypatch.setenv("TWIN_OPENAI_BASE_URL", fake.base_url)
        app = build_app(base.settings, ServerSettings(llm_backend="openai", llm_model="base-model"))
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield Env(base.settings, client, base.alice, base.bob), fake


def test_top_p_stop_seed_reach_the_engine(upstream: tuple[Env, RecordingOpenAI]) -> None:
    env, fake = upstream
    r = _chat(env, top_p=0.5, seed=42, stop=["three"], temperature=0.3, max_tokens=50_000)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "one two " and r.json()["model"] == "base-model"
    sent = fake.bodies[-1]
    assert sent["top_p"] == 0.5 and sent["seed"] == 42 and sent["stop"] == ["three"] and sent["temperature"] == 0.3
    assert sent["max_tokens"] == 32768  # clamped to the most any backend is asked for
    _chat(env, stop="four")
    assert fake.bodies[-1]["stop"] == ["four"]


# ---- speech ---------------------------------------------------------------------------------------


def _speak(env: Env, **body: Any) -> Any:
    body = {"model": "tts-1", "input": "Good morning. This is a test.", "voice": "alloy", **body}
    return env.client.post("/v1/audio/speech", headers=env.auth(), json=body)


def _upload(env: Env, name: str, emotion: str = "neutral") -> str:
    r = env.client.post(
        "/api/voice/upload",
        headers=env.auth(),
        files={"file": (f"{name}.wav", speech_wav(), "audio/wav")},
        data={"emotion": emotion, "name": name},
    )
    assert r.status_code == 201, r.text
    return r.json()["voice_id"]


def _pcm_seconds(wav: bytes) -> float:
    info = sf.info(io.BytesIO(wav))
    return info.frames / info.samplerate


def test_speech_formats(env: Env) -> None:
    wav = _speak(env, response_format="wav")
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    seconds = _pcm_seconds(wav.content)
    checks = {
        "mp3": lambda b: b[:3] == b"ID3" or b[0] == 0xFF,
        "opus": lambda b: b[:4] == b"OggS" and b"OpusHead" in b[:64],
        "aac": lambda b: b[0] == 0xFF and (b[1] & 0xF0) == 0xF0,
        "flac": lambda b: b[:4] == b"fLaC",
    }
    for fmt, looks_right in checks.items():
        r = _speak(env, response_format=fmt)
        assert r.status_code == 200, (fmt, r.text)
        assert looks_right(r.content), fmt
    flac = _speak(env, response_format="flac").content
    assert abs(_pcm_seconds(flac) - seconds) < 0.01
    pcm = _speak(env, response_format="pcm")
    assert pcm.headers["content-type"].startswith("audio/pcm") and "rate=24000" in pcm.headers["content-type"]
    samples = struct.unpack(f"<{len(pcm.content) // 2}h", pcm.content)
    assert abs(len(samples) / 24000 - seconds) < 0.05 and max(map(abs, samples)) > 1000
    bad = _speak(env, response_format="ogg")
    assert bad.status_code == 422 and "mp3" in bad.json()["error"]["message"]


def test_speech_voice_names_aliases_and_headers(env: Env) -> None:
    base = _speak(env)
    assert base.status_code == 200, base.text
    assert base.headers["x-twin-voice"] == "base" and "x-twin-notice" not in base.headers  # no voices yet
    first, second = _upload(env, "first", "happy"), _upload(env, "second")
    for name in ("alloy", "nova", "shimmer", "coral", "default", first):
        r = _speak(env, voice=name)
        assert r.status_code == 200 and r.headers["x-twin-voice"] == first, name
    assert _speak(env, voice="alloy").headers["x-twin-voice-source"] == "alias"
    assert _speak(env, voice=second).headers["x-twin-voice"] == second
    plain = _speak(env, voice="base")
    assert plain.headers["x-twin-voice"] == "base" and "base voice" in plain.headers["x-twin-notice"]
    happy = _speak(env, voice=first, instructions="Sound happy and upbeat.")
    assert happy.headers["x-twin-emotion"] == "happy"
    assert _speak(env, voice=second, instructions="Sound happy.").headers["x-twin-emotion"] == "default"
    assert _speak(env, voice="nobody").status_code == 404
    assert _speak(env, voice="alloy", stream_format="sse").status_code == 400


def test_audio_voices_models_and_default_route(env: Env) -> None:
    listed = env.client.get("/v1/audio/voices", headers=env.auth()).json()["voices"]
    assert [v["id"] for v in listed] == ["default", "base"]
    first, second = _upload(env, "first"), _upload(env, "second")
    listed = env.client.get("/v1/audio/voices", headers=env.auth()).json()["voices"]
    assert listed == [
        {"id": "default", "name": "Default voice (first)"},
        {"id": first, "name": "first (default)"},
        {"id": second, "name": "second"},
        {"id": "base", "name": "Base voice (not a clone)"},
    ]
    models = env.client.get("/v1/audio/models", headers=env.auth()).json()["models"]
    assert {"tts-1", "tts-1-hd", "twin"} <= {m["id"] for m in models}

    made = env.client.post(f"/api/voice/{second}/default", headers=env.auth())
    assert made.status_code == 200 and made.json()["default"] is True and made.json()["voice_id"] == second
    flags = {v["voice_id"]: v["default"] for v in env.client.get("/api/voice", headers=env.auth()).json()["voices"]}
    assert flags == {first: False, second: True}
    assert _speak(env, voice="alloy").headers["x-twin-voice"] == second
    assert env.client.post("/api/voice/nobody/default", headers=env.auth()).status_code == 404
    assert env.client.post(f"/api/voice/{second}/default", headers=env.auth("bob")).status_code == 404
    env.client.delete(f"/api/voice/{second}", headers=env.auth())
    flags = {v["voice_id"]: v["default"] for v in env.client.get("/api/voice", headers=env.auth()).json()["voices"]}
    assert flags == {first: True}


def test_emotions_come_from_the_server(env: Env) -> None:
    emotions = env.client.get("/api/voice/emotions", headers=env.auth()).json()["emotions"]
    assert emotions[0] == "neutral" and {"surprised", "whispered", "authoritative", "tired", "playful"} <= set(emotions)
    assert env.client.get("/api/voice/emotions").status_code == 401
