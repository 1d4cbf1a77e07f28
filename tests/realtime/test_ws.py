"""/ws/voice against a live uvicorn server with a real WebSocket client (the `websockets` library), the
session's engines scripted: the protocol, its limits, auth, Origin, concurrency and cleanup."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

websockets = pytest.importorskip("websockets")
from tests.api.conftest import make_env  # noqa: E402
from tests.api.live import serve  # noqa: E402
from tests.realtime.fakes import ScriptedReplier, ToneSpeaker, engines, pcm, silence, speech  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

from twin.api.ws import configure_voice, voice_state  # noqa: E402
from twin.realtime.config import RealtimeConfig  # noqa: E402
from twin.realtime.limits import RealtimeLimits  # noqa: E402

pytestmark = pytest.mark.timeout(120)
FRAME = 0.02


@dataclass
class Live:
    url: str
    key: str
    other: str
    app: Any
    made: list[ScriptedReplier]

    def ws(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/voice"


@contextmanager
def live_server(twin_home: Any, limits: RealtimeLimits | None = None, **replier: Any) -> Iterator[Live]:
    env = make_env(twin_home)
    app = env.client.app
    made: list[ScriptedReplier] = []

    async def build(state: Any, principal: Any, hello: Any) -> Any:
        r = ScriptedReplier(**replier)
        made.append(r)
        return engines(replier=r, speaker=ToneSpeaker()), RealtimeConfig(partial_every_s=0.3)

    configure_voice(app, build=build, limits=limits or RealtimeLimits())
    with serve(app) as url:
        yield Live(url, env.alice, env.bob, app, made)


@pytest.fixture
def live(twin_home: Any) -> Iterator[Live]:
    with live_server(twin_home) as server:
        yield server


def auth(key: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + key}


async def recv_json(ws: Any, timeout: float = 10) -> dict[str, Any]:
    while True:
        msg = await asyncio.wait_for(ws.recv(), timeout)
        if isinstance(msg, str):
            return dict(json.loads(msg))


async def until(ws: Any, kind: str, timeout: float = 20) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        msg = await recv_json(ws, max(deadline - time.monotonic(), 0.01))
        seen.append(msg)
        if msg["type"] == kind:
            return msg, seen


async def stream(ws: Any, audio: Any, rate: int = 16000, realtime: bool = True) -> None:
    step = int(rate * FRAME)
    for i in range(0, len(audio), step):
        await ws.send(pcm(audio[i : i + step]))
        if realtime:
            await asyncio.sleep(FRAME)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_spoken_turn_full_event_sequence_without_end(live: Live) -> None:
    async def go() -> list[dict[str, Any]]:
        async with connect(live.ws(), additional_headers=auth(live.key)) as ws:
            await ws.send(json.dumps({"type": "hello", "sample_rate": 16000, "persona": "twin"}))
            ready = await recv_json(ws)
            assert ready["type"] == "ready" and ready["sample_rate"] == 16000 and ready["tts_format"] == "wav"
            await stream(ws, silence(0.3))
            await stream(ws, speech(1.0))
            await stream(ws, silence(0.8))
            _, seen = await until(ws, "done")
            return seen

    seen = run(go())
    kinds = [m["type"] for m in seen]
    main = [k for k in kinds if k in ("speech_started", "speech_stopped", "final_transcript", "assistant_message")]
    assert main == ["speech_started", "speech_stopped", "final_transcript", "assistant_message"]
    assert "partial_transcript" in kinds and "assistant_delta" in kinds
    audio = [m for m in seen if m["type"] == "tts_audio"]
    assert audio and all(set(m) >= {"type", "turn_id", "seq", "text", "sample_rate", "audio"} for m in audio)
    wav = base64.b64decode(audio[0]["audio"])
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 44
    assert seen[-1]["reason"] == "completed" and seen[-1]["conversation_id"] == "conv1"


def test_pcm16_frames_end_and_push_to_talk(live: Live) -> None:
    async def go() -> None:
        async with connect(live.ws(), additional_headers=auth(live.key)) as ws:
            hello = {"type": "hello", "sample_rate": 48000, "tts_format": "pcm16", "mode": "push_to_talk"}
            await ws.send(json.dumps(hello))
            await recv_json(ws)
            from twin.audio.resample import resample

            await stream(ws, resample(speech(1.0), 16000, 48000), 48000, realtime=False)
            await stream(ws, silence(0.8, 48000), 48000, realtime=False)
            await ws.send(json.dumps({"type": "end"}))
            headers = 0
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg["type"] == "tts_audio":
                    assert "audio" not in msg and msg["sample_rate"] == 48000
                    data = await asyncio.wait_for(ws.recv(), 10)
                    assert isinstance(data, bytes) and len(data) == msg["bytes"]
                    headers += 1
                if msg["type"] == "done":
                    break
            assert headers >= 2

    run(go())


def test_bad_messages_get_errors_and_the_session_goes_on(twin_home: Any) -> None:
    limits = RealtimeLimits(max_frame_bytes=4096)
    with live_server(twin_home, limits) as live:

        async def go() -> None:
            async with connect(live.ws(), additional_headers=auth(live.key)) as ws:
                await ws.send(b"\x00\x00" * 160)
                assert (await recv_json(ws))["code"] == "bad_request:hello_first"
                await ws.send("{not json")
                assert (await recv_json(ws))["code"] == "bad_request:json"
                await ws.send(json.dumps({"type": "dance"}))
                assert (await recv_json(ws))["code"] == "bad_request:type"
                await ws.send(json.dumps({"type": "hello", "sample_rate": 96000}))
                error = await recv_json(ws)
                assert error["code"] == "bad_request:sample_rate" and "8000-48000" in error["hint"]
                await ws.send(json.dumps({"type": "hello", "sample_rate": 16000, "extra": 1}))
                assert (await recv_json(ws))["code"] == "bad_request:hello"
                await ws.send(json.dumps({"type": "hello", "sample_rate": 16000}))
                assert (await recv_json(ws))["type"] == "ready"
                await ws.send(b"\x00" * 8192)
                error = await recv_json(ws)
                assert error["code"] == "bad_request:frame_too_large"
                await ws.send(json.dumps({"type": "audio_frame", "data": "***"}))
                assert (await recv_json(ws))["code"] == "bad_request:invalid_input"
                legacy = base64.b64encode(pcm(speech(1.0))).decode()
                await ws.send(json.dumps({"type": "audio_frame", "data": legacy}))
                await stream(ws, silence(0.8), realtime=False)
                done, seen = await until(ws, "done")
                assert done["reason"] == "completed"
                assert not [m for m in seen if m["type"] == "error"]

        run(go())


def test_unauthenticated_and_cross_origin_connects_are_refused(live: Live) -> None:
    async def refused(**kwargs: Any) -> int:
        with pytest.raises(InvalidStatus) as err:
            async with connect(live.ws(), **kwargs):
                pass
        return int(err.value.response.status_code)

    async def go() -> None:
        assert await refused() == 403
        assert await refused(additional_headers=auth("twin_sk_" + "x" * 43)) == 403
        assert await refused(subprotocols=["twin.bearer.nonsense"]) == 403
        evil = {**auth(live.key), "Origin": "http://evil.example"}
        assert await refused(additional_headers=evil) == 403
        # what a browser on the server's own origin does: the key in the subprotocol
        same = live.url
        async with connect(live.ws(), subprotocols=["twin.voice.v0", "twin.bearer." + live.key], origin=same) as ws:  # type: ignore[arg-type]
            assert ws.subprotocol == "twin.voice.v0"
            await ws.send(json.dumps({"type": "hello", "sample_rate": 16000}))
            assert (await recv_json(ws))["type"] == "ready"

    run(go())


def test_two_concurrent_sessions_and_the_per_key_limit(live: Live) -> None:
    async def one(key: str, pitch: float) -> str:
        async with connect(live.ws(), additional_headers=auth(key)) as ws:
            await ws.send(json.dumps({"type": "hello", "sample_rate": 16000}))
            await recv_json(ws)
            await stream(ws, speech(1.0, pitch=pitch))
            await stream(ws, silence(0.8))
            done, _ = await until(ws, "done")
            return str(done["reason"])

    async def go() -> None:
        assert await asyncio.gather(one(live.key, 180), one(live.key, 220)) == ["completed", "completed"]
        async with (
            connect(live.ws(), additional_headers=auth(live.key)),
            connect(live.ws(), additional_headers=auth(live.key)),
        ):
            async with connect(live.ws(), additional_headers=auth(live.key)) as third:
                error = await recv_json(third)
                assert error["code"] == "bad_request:too_many_sessions"
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(third.recv(), 5)
                assert third.close_code == 1013
            async with connect(live.ws(), additional_headers=auth(live.other)) as other:  # another key is fine
                await other.send(json.dumps({"type": "hello", "sample_rate": 16000}))
                assert (await recv_json(other))["type"] == "ready"

    run(go())


def test_disconnect_mid_turn_frees_everything(twin_home: Any) -> None:
    with live_server(twin_home, reply_text="word " * 300, delay_s=0.01) as live:

        async def go() -> None:
            async with connect(live.ws(), additional_headers=auth(live.key)) as ws:
                await ws.send(json.dumps({"type": "hello", "sample_rate": 16000}))
                await recv_json(ws)
                await stream(ws, speech(1.0))
                await stream(ws, silence(0.8))
                await until(ws, "tts_audio")
                vs = voice_state(live.app)
                sessions = list(vs.sessions)
            deadline = time.monotonic() + 10
            while vs.sessions or vs.counter.total():
                assert time.monotonic() < deadline, "the session was not closed"
                await asyncio.sleep(0.05)
            assert len(sessions) == 1 and sessions[0].live_tasks() == []
            assert live.made[0].truncated and live.made[0].truncated[0][0] == "m1"

        run(go())


def test_rate_and_session_length_limits(twin_home: Any) -> None:
    limits = RealtimeLimits(max_messages_per_s=20, burst=20, max_session_s=2)
    with live_server(twin_home, limits) as live:

        async def go() -> None:
            async with connect(live.ws(), additional_headers=auth(live.key)) as ws:
                await ws.send(json.dumps({"type": "hello", "sample_rate": 16000}))
                await recv_json(ws)
                for _ in range(60):
                    await ws.send(b"\x00\x00" * 160)
                error, _ = await until(ws, "error")
                assert error["code"] == "bad_request:rate_limited"
                error, _ = await until(ws, "error", timeout=5)
                assert error["code"] == "bad_request:session_too_long"
                with pytest.raises(websockets.ConnectionClosed):
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)

        run(go())
