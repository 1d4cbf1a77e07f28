"""Bad text and failing engines never break a connection: a real uvicorn server and one keep-alive
httpx client, which must be served every request on the same TCP connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from twin.providers import registry
from twin.voice.synth.engine_loop import reset_backends

from .conftest import Env, make_env
from .live import serve

TWO_CLAUSES = "The first sentence is spoken. The second one breaks the engine."


@pytest.fixture(autouse=True)
def _fresh_backends() -> Iterator[None]:
    reset_backends()
    yield
    reset_backends()


class Live:
    def __init__(self, env: Env, url: str, ports: list[int]) -> None:
        self.env, self.url, self.ports = env, url, ports

    def client(self) -> httpx.Client:
        # One connection at most: a reset would surface as an error, a reconnect as a second port.
        return httpx.Client(
            base_url=self.url, headers=self.env.auth(), timeout=120, limits=httpx.Limits(max_connections=1)
        )


def _live(home: Path, **server: object) -> Iterator[Live]:
    env = make_env(home, **server)
    ports: list[int] = []
    app = env.client.app

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            ports.append(scope["client"][1])
        await app(scope, receive, send)

    with serve(recording) as url:
        yield Live(env, url, ports)


@pytest.fixture
def live(twin_home: Path) -> Iterator[Live]:
    yield from _live(twin_home)


@pytest.fixture
def broken_tts(twin_home: Path) -> Iterator[Live]:
    registry.register("tts", "breaks_later", "api.helpers:BreaksOnSecondClause")
    yield from _live(twin_home, tts_engine="breaks_later")


@pytest.fixture
def broken_llm(twin_home: Path) -> Iterator[Live]:
    registry.register("llm", "breaks_mid_reply", "api.helpers:broken_llm")
    yield from _live(twin_home, llm_backend="breaks_mid_reply")


def test_control_characters_are_spoken_around(live: Live) -> None:
    with live.client() as client:
        for body in ({"text": "a\u0000b"}, {"text": "a\u0000b", "stream": True}, {"text": "red\x1b[31m \x07bell"}):
            r = client.post("/api/tts/clone", json=body)
            assert r.status_code == 200, (body, r.text)
            assert r.content[:4] == b"RIFF" and len(r.content) > 4000
        r = client.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "input": "a\u0000b", "voice": "default", "response_format": "wav"},
        )
        assert r.status_code == 200 and r.content[:4] == b"RIFF"
        # A lone surrogate cannot be encoded for any engine: the JSON parser refuses it cleanly.
        r = client.post(
            "/api/tts/clone", content=b'{"text": "\\ud800 lone"}', headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
        nothing = client.post("/api/tts/clone", json={"text": "\u0000\u0001\u200b"})
        assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "invalid_input"
        assert client.get("/api/health").status_code == 200
    assert len(live.ports) == 7 and len(set(live.ports)) == 1


def test_engine_failure_mid_stream_ends_the_body_cleanly(broken_tts: Live) -> None:
    with broken_tts.client() as client:
        with client.stream("POST", "/api/tts/clone", json={"text": TWO_CLAUSES, "stream": True}) as r:
            assert r.status_code == 200 and r.headers["x-twin-engine"] == "breaks_later"
            audio = b"".join(r.iter_bytes())  # a broken connection would raise here
        assert audio[:4] == b"RIFF" and len(audio) > 22050  # the first clause arrived
        whole = client.post("/api/tts/clone", json={"text": TWO_CLAUSES + " Again."})
        assert whole.status_code == 500 and whole.json()["error"]["code"] == "internal_error"
        assert "native code" not in whole.text  # the engine's own message stays in the server log
        with client.stream("POST", "/api/tts/pipeline", json={"prompt": TWO_CLAUSES, "stream": True}) as r:
            events = [json.loads(line) for line in r.iter_lines() if line.strip()]
        assert events[0]["type"] == "text" and events[-1] == {
            "type": "error",
            "error": {
                "code": "internal_error",
                "message": "The server hit an unexpected error.",
                "hint": "See the server log; report it if it repeats.",
            },
        }
        assert client.get("/api/health").status_code == 200
    assert len(set(broken_tts.ports)) == 1


def test_llm_failure_mid_reply_ends_with_an_error_event(broken_llm: Live) -> None:
    with broken_llm.client() as client:
        with client.stream("POST", "/api/tts/lora/generate", json={"prompt": "hello", "stream": True}) as r:
            assert r.status_code == 200
            lines = list(r.iter_lines())
        data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
        assert "".join(d["delta"] for d in data[:-1]).strip() == "Partial reply"
        assert "event: error" in lines and data[-1]["error"]["code"] == "internal_error"
        chat = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        with client.stream("POST", "/v1/chat/completions", json=chat) as r:
            last = [line for line in r.iter_lines() if line.startswith("data: ")][-1]
        assert json.loads(last[6:])["error"]["code"] == "internal_error"
        plain = client.post("/api/tts/lora/generate", json={"prompt": "hello"})
        assert plain.status_code == 500 and plain.json()["error"]["code"] == "internal_error"
        assert client.get("/api/health").status_code == 200
    assert len(set(broken_llm.ports)) == 1


def test_audio_stream_failure_is_reported_in_a_trailer() -> None:
    """Where the HTTP server offers trailers (the ASGI extension), the error travels in X-Twin-Error."""
    import asyncio

    from twin.api.sse import AudioStreamResponse
    from twin.errors import Unavailable

    async def chunks() -> Iterator[bytes]:  # type: ignore[misc]
        yield b"RIFF...."
        raise Unavailable("The engine went away.", "Start it again.")

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    scope = {"type": "http", "asgi": {"spec_version": "2.4"}, "extensions": {"http.response.trailers": {}}}
    response = AudioStreamResponse(chunks(), media_type="audio/wav", headers={"X-Twin-Engine": "piper"})
    asyncio.run(response(scope, receive, send))  # type: ignore[arg-type]
    start = sent[0]
    assert start["trailers"] is True and (b"trailer", b"X-Twin-Error") in start["headers"]
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
        "http.response.trailers",
    ]
    assert sent[2] == {"type": "http.response.body", "body": b"", "more_body": False}
    ((name, value),) = sent[3]["headers"]
    assert name == b"x-twin-error" and json.loads(value)["code"] == "unavailable"
