"""Open WebUI pointed at twin's /v1, replayed: the requests it sends (tests/data/openwebui/requests.json,
bodies serialized with json.dumps as Open WebUI does, through aiohttp as Open WebUI sends them) against
a live uvicorn server, read back the way Open WebUI reads the answers. Covers the model list, a streamed
chat with its background title and tags tasks, and read-aloud speech with the voice and model lists it
asks for (without a key, as Open WebUI does, so it falls back to OpenAI's voice names: they must work)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

aiohttp = pytest.importorskip("aiohttp")

from .conftest import Env, make_env, speech_wav  # noqa: E402
from .live import serve  # noqa: E402

REQUESTS = json.loads((Path(__file__).parents[1] / "data" / "openwebui" / "requests.json").read_text("utf-8"))
OPENAI_DEFAULT_VOICES = {"alloy", "echo", "fable", "onyx", "nova", "shimmer"}  # Open WebUI's fallback list


@pytest.fixture
def live(twin_home: Path) -> Iterator[tuple[Env, str]]:
    env = make_env(twin_home)
    with serve(env.client.app) as url:
        yield env, url + "/v1"


async def _send(base: str, key: str, name: str) -> tuple[int, str, bytes, dict[str, str]]:
    """One request as Open WebUI's backend makes it (same headers, same body bytes)."""
    spec = REQUESTS[name]
    headers = {"Authorization": f"Bearer {key}"} if spec["auth"] else {}
    kwargs: dict[str, Any] = {}
    if "body" in spec:  # routers/openai.py: data=json.dumps(payload)
        headers = {"Content-Type": "application/json", **headers}
        kwargs["data"] = json.dumps(spec["body"])
    if "json" in spec:  # routers/audio.py: json=payload
        headers = {"Content-Type": "application/json", **headers}
        kwargs["json"] = spec["json"]
    async with (
        aiohttp.ClientSession(trust_env=True) as session,
        session.request(spec["method"], base + spec["path"], headers=headers, **kwargs) as r,
    ):
        return r.status, r.headers.get("Content-Type", ""), await r.read(), {k.lower(): v for k, v in r.headers.items()}


def _replay(base: str, key: str, name: str) -> tuple[int, str, bytes, dict[str, str]]:
    return asyncio.run(_send(base, key, name))


def _sse(body: bytes) -> list[Any]:
    data = [line[6:] for line in body.decode().splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def test_model_list(live: tuple[Env, str]) -> None:
    env, base = live
    status, _, body, _ = _replay(base, env.alice, "models")
    assert status == 200 and [m["id"] for m in json.loads(body)["data"]] == ["fake", "persona:twin"]


@pytest.mark.parametrize("name", ["chat_stream", "chat_stream_with_params"])
def test_streamed_chat(live: tuple[Env, str], name: str) -> None:
    env, base = live
    status, ctype, body, _ = _replay(base, env.alice, name)
    assert status == 200 and "text/event-stream" in ctype, body
    chunks = _sse(body)
    assert {c["model"] for c in chunks} == {"fake"}
    last_user = [m for m in REQUESTS[name]["body"]["messages"] if m["role"] == "user"][-1]["content"]
    wanted = last_user if isinstance(last_user, str) else last_user[0]["text"]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == wanted
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    usage = chunks[-1]  # Open WebUI looks for '"usage"' in the stream to count tokens
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("name", ["title", "tags"])
def test_background_tasks(live: tuple[Env, str], name: str) -> None:
    env, base = live
    status, ctype, body, _ = _replay(base, env.alice, name)
    assert status == 200 and ctype.startswith("application/json"), body
    response = json.loads(body)
    content = response["choices"][0]["message"]["content"]  # what trigger_title_generation reads
    assert content.startswith("### Task:") and "<chat_history>" in content
    assert response["choices"][0]["finish_reason"] == "stop" and "usage" in response


def test_read_aloud(live: tuple[Env, str]) -> None:
    env, base = live
    # Open WebUI asks for voices and models without a key; refused, it falls back to OpenAI's names.
    for name in ("audio_voices", "audio_models", "models_fallback"):
        status, _, body, _ = _replay(base, env.alice, name)
        assert status == 401 and json.loads(body)["error"]["message"]
    status, ctype, audio, headers = _replay(base, env.alice, "speech")
    assert status == 200 and ctype == "audio/mpeg"  # Open WebUI stores it as .mp3 without transcoding
    assert audio[:3] == b"ID3" or audio[0] == 0xFF
    assert headers["x-twin-voice"] == "base"

    up = env.client.post(
        "/api/voice/upload",
        headers=env.auth(),
        files={"file": ("me.wav", speech_wav(), "audio/wav")},
        data={"emotion": "neutral", "name": "me"},
    )
    vid = up.json()["voice_id"]
    status, _, _, headers = _replay(base, env.alice, "speech")
    assert status == 200 and headers["x-twin-voice"] == vid  # "alloy" now speaks in the owner's voice
    # A build that sends the key gets the real list: {id: name} as Open WebUI maps it.
    status, _, body, _ = _replay(base, env.alice, "audio_voices_with_key")
    voices = {v["id"]: v["name"] for v in json.loads(body)["voices"]}
    assert status == 200 and voices[vid] == "me (default)" and "default" in voices
    assert OPENAI_DEFAULT_VOICES.isdisjoint(voices)
