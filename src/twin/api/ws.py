"""WebSocket transport of the voice loop: `/ws/voice` (twin's protocol, docs/realtime-protocol.md) and
`/v1/realtime` (a subset of the OpenAI Realtime protocol), both onto the same VoiceSession.

The key is checked before the socket is accepted (Bearer header, or the `twin.bearer.<key>`
subprotocol browsers use) and the Origin by the app's guard. Each connection is held to the limits in
twin.realtime.limits: oversized frames and messages past the rate are dropped with an `error` event,
the session lasts at most max_session_s, and one key holds at most max_sessions_per_key sessions.
A bad message gets an `error` event and the session goes on. On disconnect the session is closed:
its turn is cut to what was heard and every task it started is finished."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket
from starlette.websockets import WebSocketState

from twin.api.deps import AppState, Principal, authenticate_websocket
from twin.errors import TwinError
from twin.realtime.config import RealtimeConfig
from twin.realtime.events import Hello
from twin.realtime.limits import RateLimiter, RealtimeLimits, SessionCounter, frame_too_large, rate_exceeded
from twin.realtime.openai_wire import OpenAIRealtimeWire
from twin.realtime.ports import Engines
from twin.realtime.session import VoiceSession
from twin.realtime.wire import Frame, VoiceWire, bad_request

log = logging.getLogger("twin.api.ws")
router = APIRouter()

EnginesBuilder = Callable[[AppState, Principal, Hello], Awaitable[tuple[Engines, RealtimeConfig]]]
CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TRY_LATER = 1000, 1008, 1013


async def _default_build(state: AppState, principal: Principal, hello: Hello) -> tuple[Engines, RealtimeConfig]:
    from twin.realtime.engines import build_engines

    return await build_engines(state, principal.profile, hello)


@dataclass
class VoiceState:
    limits: RealtimeLimits = field(default_factory=RealtimeLimits)
    build: EnginesBuilder = _default_build
    counter: SessionCounter = field(default_factory=SessionCounter)
    sessions: set[VoiceSession] = field(default_factory=set)


def voice_state(app: FastAPI) -> VoiceState:
    found = getattr(app.state, "voice", None)
    if not isinstance(found, VoiceState):
        found = app.state.voice = VoiceState()
    return found


def configure_voice(app: FastAPI, build: EnginesBuilder | None = None, limits: RealtimeLimits | None = None) -> None:
    """Replace how voice sessions get their engines, or their limits (tests, embedding apps)."""
    vs = voice_state(app)
    if build is not None:
        vs.build = build
    if limits is not None:
        vs.limits = limits


def _subprotocol(ws: WebSocket) -> str | None:
    """Answer with the client's protocol name; a browser that offered only the key gets that echoed
    (a browser drops a connection whose answer names none of its offers)."""
    offered = list(ws.scope.get("subprotocols", []))
    named = [p for p in offered if not p.startswith("twin.bearer.")]
    return named[0] if named else (offered[0] if offered else None)


def _opener(
    ws: WebSocket, principal: Principal, vs: VoiceState, auto_respond: bool = True
) -> Callable[[Hello], Awaitable[VoiceSession]]:
    state: AppState = ws.app.state.twin

    async def open_session(hello: Hello) -> VoiceSession:
        engines, config = await vs.build(state, principal, hello)
        session = VoiceSession(engines, config, auto_respond=auto_respond)
        vs.sessions.add(session)
        await session.start(hello, vs.limits.public())
        return session

    return open_session


@router.websocket("/ws/voice")
async def voice_socket(ws: WebSocket) -> None:
    principal = await authenticate_websocket(ws)
    vs = voice_state(ws.app)
    await _serve(ws, principal, vs, VoiceWire(_opener(ws, principal, vs)))


@router.websocket("/v1/realtime")
async def openai_realtime_socket(ws: WebSocket) -> None:
    principal = await authenticate_websocket(ws)
    vs = voice_state(ws.app)
    model = ws.query_params.get("model", "")
    await _serve(ws, principal, vs, OpenAIRealtimeWire(_opener(ws, principal, vs, auto_respond=True), model))


class _Sender:
    """One writer at a time, so a pcm16 header and its binary frame stay together."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._lock = asyncio.Lock()

    async def send(self, frames: list[Frame]) -> bool:
        async with self._lock:
            try:
                for frame in frames:
                    if isinstance(frame, bytes):
                        await self.ws.send_bytes(frame)
                    else:
                        await self.ws.send_text(frame)
            except Exception:  # the client went away; the reader sees the disconnect
                return False
        return True


async def _serve(ws: WebSocket, principal: Principal, vs: VoiceState, wire: VoiceWire | OpenAIRealtimeWire) -> None:
    await ws.accept(subprotocol=_subprotocol(ws))
    sender = _Sender(ws)
    limits = vs.limits
    if not vs.counter.acquire(principal.key.id, limits.max_sessions_per_key):
        exc = TwinError(
            f"This key already has {limits.max_sessions_per_key} voice sessions open.",
            "Close another session (or tab) first, or raise TWIN_REALTIME_MAX_SESSIONS_PER_KEY.",
            code="bad_request:too_many_sessions",
        )
        await sender.send(wire.error(exc))
        await ws.close(CLOSE_TRY_LATER)
        return
    writer: asyncio.Task[None] | None = None
    try:
        await sender.send(await wire.opened())
        writer = await _read_loop(ws, wire, sender, limits)
    finally:
        vs.counter.release(principal.key.id)
        session = wire.session
        if session is not None:
            await session.close()
            vs.sessions.discard(session)
        if writer is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(writer, 5)
        if ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await ws.close(CLOSE_NORMAL)


async def _read_loop(
    ws: WebSocket, wire: VoiceWire | OpenAIRealtimeWire, sender: _Sender, limits: RealtimeLimits
) -> asyncio.Task[None] | None:
    """Read until the client leaves or the session is over; returns the writer task (if one started)."""
    deadline = time.monotonic() + limits.max_session_s
    rate = RateLimiter(limits.max_messages_per_s, limits.burst)
    warned = -1e9
    writer: asyncio.Task[None] | None = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            await _report(wire, sender, _too_long(limits))
            return writer
        try:
            message = await asyncio.wait_for(ws.receive(), left)
        except TimeoutError:
            continue
        if message["type"] == "websocket.disconnect":
            return writer
        if not rate.allow():
            if time.monotonic() - warned > 1.0:
                warned = time.monotonic()
                await _report(wire, sender, rate_exceeded(limits.max_messages_per_s))
            continue
        try:
            await _dispatch(wire, message, limits)
        except TwinError as exc:
            await _report(wire, sender, exc)
        except Exception:
            log.exception("voice message failed")
            await _report(wire, sender, TwinError("The server failed on that message.", code="server_error"))
        if writer is None and wire.session is not None:
            writer = asyncio.ensure_future(_write(wire, sender))


async def _dispatch(wire: VoiceWire | OpenAIRealtimeWire, message: Mapping[str, Any], limits: RealtimeLimits) -> None:
    data = message.get("bytes")
    if isinstance(data, bytes):
        if len(data) > limits.max_frame_bytes:
            raise frame_too_large(len(data), limits.max_frame_bytes)
        await wire.binary(data)
        return
    text = message.get("text")
    if isinstance(text, str):
        if len(text) > limits.max_text_bytes:
            raise frame_too_large(len(text), limits.max_text_bytes)
        await wire.text(text)


async def _report(wire: VoiceWire | OpenAIRealtimeWire, sender: _Sender, exc: TwinError) -> None:
    if wire.session is not None and wire.session.started:
        wire.session.emit(bad_request(exc))
    else:
        await sender.send(wire.error(exc))


async def _write(wire: VoiceWire | OpenAIRealtimeWire, sender: _Sender) -> None:
    assert wire.session is not None
    async for event in wire.session.events():
        if not await sender.send(wire.encode(event)):
            return


def _too_long(limits: RealtimeLimits) -> TwinError:
    return TwinError(
        f"The voice session reached its {limits.max_session_s:g} s limit and was closed.",
        "Start a new session (the conversation can continue with its conversation_id).",
        code="bad_request:session_too_long",
    )
