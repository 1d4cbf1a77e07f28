"""The twin voice protocol (v0) on a message transport: client JSON and binary frames in, server events
out as JSON text frames, with speech as base64 WAV inside `tts_audio` or, for `tts_format: pcm16`, as
a binary frame right after its JSON header. Transport-independent: the WebSocket route feeds it."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable

from twin.audio.pcm import wav_header
from twin.errors import InvalidInput, TwinError
from twin.realtime.events import Error, Hello, ServerEvent, TTSAudio, parse_client
from twin.realtime.session import VoiceSession

Frame = str | bytes
OpenSession = Callable[[Hello], Awaitable[VoiceSession]]


def bad_request(exc: TwinError) -> Error:
    """The error event for a failure caused by what the client sent."""
    code = exc.code if ":" in exc.code else f"bad_request:{exc.code}"
    return Error(code=code, message=exc.message, hint=exc.hint)


class VoiceWire:
    def __init__(self, open_session: OpenSession) -> None:
        self._open = open_session
        self.session: VoiceSession | None = None

    async def opened(self) -> list[Frame]:
        return []

    async def text(self, data: str) -> None:
        message = parse_client(data)
        if isinstance(message, Hello):
            if self.session is not None:
                raise InvalidInput("The session has already started.", "Send hello once.", code="bad_request:hello")
            self.session = await self._open(message)
            return
        if self.session is None:
            raise InvalidInput(
                f"'{message.type}' came before hello.", "Send hello first.", code="bad_request:hello_first"
            )
        await self.session.handle(message)

    async def binary(self, data: bytes) -> None:
        if self.session is None:
            raise InvalidInput("Audio came before hello.", "Send hello first.", code="bad_request:hello_first")
        self.session.push_audio(data)

    def encode(self, event: ServerEvent) -> list[Frame]:
        if not isinstance(event, TTSAudio):
            return [json.dumps(event.to_dict())]
        header = event.to_dict()
        assert self.session is not None and self.session.hello is not None
        if self.session.hello.tts_format == "pcm16":
            header["bytes"] = len(event.pcm)
            return [json.dumps(header), event.pcm]
        wav = wav_header(event.sample_rate, len(event.pcm) // 2) + event.pcm
        header["audio"] = base64.b64encode(wav).decode("ascii")
        return [json.dumps(header)]

    def error(self, exc: TwinError) -> list[Frame]:
        return [json.dumps(bad_request(exc).to_dict())]
