"""/v1/realtime with the official `openai` SDK's realtime client (client.beta.realtime.connect) pointed at
a live server; the session's engines are scripted."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

openai = pytest.importorskip("openai")
pytest.importorskip("websockets")

from tests.realtime.fakes import ScriptedReplier, pcm, silence, speech  # noqa: E402
from tests.realtime.test_ws import Live, live_server  # noqa: E402

from twin.audio.resample import resample  # noqa: E402

pytestmark = pytest.mark.timeout(120)
RATE = 24000


@pytest.fixture
def live(twin_home: Any) -> Any:
    # the reply streams over about a second, so a response.cancel sent after response.created lands mid-reply
    reply = {"reply_text": "Sure. The shop opens at nine, and closes at six.", "delay_s": 0.1}
    with live_server(twin_home, **reply) as server:
        yield server


def client(live: Live) -> Any:
    ws_url = live.url.replace("http://", "ws://") + "/v1"  # the SDK assumes wss:// from an http base URL
    return openai.AsyncOpenAI(api_key=live.key, base_url=live.url + "/v1", websocket_base_url=ws_url)


async def append(conn: Any, audio16k: Any) -> None:
    x = resample(audio16k, 16000, RATE)
    step = RATE // 10
    for i in range(0, len(x), step):
        await conn.input_audio_buffer.append(audio=base64.b64encode(pcm(x[i : i + step])).decode())


async def collect(conn: Any, until: str, timeout: float = 20) -> list[Any]:
    events: list[Any] = []

    async def read() -> None:
        async for event in conn:
            events.append(event)
            if event.type == until:
                return

    await asyncio.wait_for(read(), timeout)
    return events


def test_server_vad_turn_with_the_sdk(live: Live) -> None:
    async def go() -> list[Any]:
        async with client(live).beta.realtime.connect(model="persona:twin") as conn:
            created = await conn.recv()
            assert created.type == "session.created" and created.session.input_audio_format == "pcm16"
            await conn.session.update(session={"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}})
            await append(conn, silence(0.3))
            await append(conn, speech(1.0))
            await append(conn, silence(0.8))
            return await collect(conn, "response.done")

    events = asyncio.run(go())
    kinds = [e.type for e in events]
    assert kinds[0] == "session.updated"
    updated = events[0].session
    assert updated.turn_detection.type == "server_vad" and updated.turn_detection.silence_duration_ms == 500
    for kind in (
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.input_audio_transcription.completed",
        "response.created",
        "response.audio_transcript.delta",
        "response.audio.delta",
        "response.audio.done",
        "response.audio_transcript.done",
        "response.done",
    ):
        assert kind in kinds, kind
    assert kinds.index("input_audio_buffer.committed") < kinds.index("response.created")
    transcript = next(e for e in events if e.type == "conversation.item.input_audio_transcription.completed")
    assert transcript.transcript == "hello twin"
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.audio.delta")
    assert len(audio) > RATE  # PCM16 at 24 kHz, more than half a second
    done = events[-1].response
    assert done.status == "completed"
    assert done.output[0].content[0].transcript == "Sure. The shop opens at nine, and closes at six."
    deltas = "".join(e.delta for e in events if e.type == "response.audio_transcript.delta")
    assert deltas.strip() == done.output[0].content[0].transcript


def test_manual_commit_then_response_create_and_cancel(live: Live) -> None:
    async def go() -> None:
        async with client(live).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
            await conn.recv()
            await conn.session.update(session={"turn_detection": None})
            updated = await conn.recv()
            assert updated.type == "session.updated" and updated.session.turn_detection is None
            await append(conn, speech(1.0))
            await append(conn, silence(1.0))
            await conn.input_audio_buffer.commit()
            events = await collect(conn, "conversation.item.input_audio_transcription.completed")
            assert "input_audio_buffer.committed" in [e.type for e in events]
            await asyncio.sleep(0.3)
            await conn.response.create()
            events = await collect(conn, "response.done")
            assert events[-1].response.status == "completed"
            # cancel a reply while it is being spoken
            await append(conn, speech(1.0))
            await conn.input_audio_buffer.commit()
            await collect(conn, "conversation.item.input_audio_transcription.completed")
            await conn.response.create()
            await collect(conn, "response.created")
            await conn.response.cancel()
            events = await collect(conn, "response.done")
            assert events[-1].response.status == "cancelled"

    asyncio.run(go())


def test_unsupported_events_get_an_error_and_the_session_goes_on(live: Live) -> None:
    async def go() -> None:
        async with client(live).beta.realtime.connect(model="twin") as conn:
            await conn.recv()
            await conn.send({"type": "conversation.item.create", "item": {"type": "message"}})
            error = await conn.recv()
            assert error.type == "error" and error.error.code == "unsupported_event"
            await conn.session.update(session={"input_audio_format": "g711_ulaw"})
            error = await conn.recv()
            assert error.type == "error" and error.error.type == "invalid_request_error"
            await conn.session.update(session={"turn_detection": {"type": "server_vad", "threshold": 0.6}})
            assert (await conn.recv()).type == "session.updated"

    asyncio.run(go())


def test_model_names_a_persona() -> None:
    from twin.realtime.openai_wire import persona_for

    assert persona_for("persona:ada") == "ada"
    assert persona_for("gpt-4o-realtime-preview") == "twin"
    assert ScriptedReplier().reply_text
