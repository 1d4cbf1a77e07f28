"""A subset of the OpenAI Realtime protocol (the beta event names the `openai` SDK's
`client.beta.realtime` speaks) mapped onto the voice session, so existing realtime clients can talk to
a twin. Audio is PCM16 mono at 24 kHz both ways, as that protocol fixes.

Client events: session.update (turn_detection server_vad or null, its threshold and silence),
input_audio_buffer.append|commit|clear, response.create|cancel.
Server events: session.created|updated, input_audio_buffer.speech_started|speech_stopped|committed|
cleared, conversation.item.created, conversation.item.input_audio_transcription.delta|completed,
response.created, response.audio.delta|done, response.audio_transcript.delta|done, response.done, error.
The `model` of the connection picks the persona ("persona:<name>"; anything else talks with the
default persona)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from twin.errors import InvalidInput, TwinError
from twin.ids import new_id
from twin.realtime.events import (
    AssistantDelta,
    AssistantMessage,
    Done,
    Error,
    FinalTranscript,
    Hello,
    PartialTranscript,
    ServerEvent,
    SpeechStarted,
    SpeechStopped,
    TTSAudio,
)
from twin.realtime.session import VoiceSession
from twin.realtime.wire import Frame, OpenSession

RATE = 24000
CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "response.create",
    "response.cancel",
)


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "event_id": "event_" + new_id().replace("-", ""), **fields})


def persona_for(model: str) -> str:
    return model.split(":", 1)[1] or "twin" if model.startswith("persona:") else "twin"


class OpenAIRealtimeWire:
    def __init__(self, open_session: OpenSession, model: str) -> None:
        self._open = open_session
        self.model = model or "twin"
        self.session: VoiceSession | None = None
        self._user_item: str | None = None
        self._previous_item: str | None = None
        self._partial = ""
        self._turns: dict[str, dict[str, Any]] = {}

    # ---- client → session --------------------------------------------------------------------------
    async def opened(self) -> list[Frame]:
        hello = Hello(type="hello", sample_rate=RATE, persona=persona_for(self.model), tts_format="pcm16")
        self.session = await self._open(hello)
        return [_event("session.created", session=self._session_info())]

    async def text(self, data: str) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            raise InvalidInput("The event is not JSON.", "Send JSON events.", code="invalid_json") from None
        kind = event.get("type") if isinstance(event, dict) else None
        if kind not in CLIENT_EVENTS:
            raise InvalidInput(
                f"Event type {str(kind)[:60]!r} is not supported here.",
                "Supported: " + ", ".join(CLIENT_EVENTS) + ".",
                code="unsupported_event",
            )
        assert self.session is not None
        if kind == "session.update":
            self._update(event.get("session") or {})
        elif kind == "input_audio_buffer.append":
            self.session.push_audio(_audio(event.get("audio")))
        elif kind == "input_audio_buffer.commit":
            self.session.end()
        elif kind == "input_audio_buffer.clear":
            self.session.clear()
            self.session.emit(_Raw(_event("input_audio_buffer.cleared")))
        elif kind == "response.create":
            await self.session.respond()
        elif kind == "response.cancel":
            self.session.cancel()

    async def binary(self, data: bytes) -> None:
        raise InvalidInput("Binary frames are not part of this protocol.", "Send input_audio_buffer.append events.")

    def _update(self, info: dict[str, Any]) -> None:
        assert self.session is not None
        for key in ("input_audio_format", "output_audio_format"):
            if info.get(key, "pcm16") != "pcm16":
                raise InvalidInput(
                    f"{key} {info[key]!r} is not supported.", "Use pcm16 (24 kHz mono).", code="invalid_value"
                )
        if "turn_detection" in info:
            detection = info["turn_detection"]
            if detection is None:
                self.session.set_turn_detection(auto=False, auto_respond=False)
            elif isinstance(detection, dict) and detection.get("type", "server_vad") == "server_vad":
                silence = detection.get("silence_duration_ms")
                padding = detection.get("prefix_padding_ms")
                self.session.set_turn_detection(
                    auto=True,
                    auto_respond=bool(detection.get("create_response", True)),
                    threshold=detection.get("threshold"),
                    end_of_turn_s=silence / 1000 if isinstance(silence, int | float) else None,
                    pre_roll_s=padding / 1000 if isinstance(padding, int | float) else None,
                )
            else:
                raise InvalidInput(
                    "Only server_vad turn detection (or null) is supported.", "Use server_vad.", code="invalid_value"
                )
        self.session.emit(_Raw(_event("session.updated", session=self._session_info())))

    def _session_info(self) -> dict[str, Any]:
        assert self.session is not None
        cfg = self.session.config
        auto = self.session.mode == "auto"
        detection = (
            {
                "type": "server_vad",
                "threshold": cfg.vad_threshold,
                "prefix_padding_ms": int(cfg.pre_roll_s * 1000),
                "silence_duration_ms": int(cfg.end_of_turn_s * 1000),
                "create_response": self.session.auto_respond,
                "interrupt_response": True,
            }
            if auto
            else None
        )
        return {
            "id": "sess_" + self.session.session_id.replace("-", ""),
            "object": "realtime.session",
            "model": self.model,
            "modalities": ["audio", "text"],
            "instructions": "",
            "voice": cfg.voice_id or "default",
            "input_audio_format": "pcm16",
            "output_audio_format": "pcm16",
            "input_audio_transcription": {"model": cfg.stt_model, "language": cfg.language},
            "turn_detection": detection,
            "tools": [],
            "tool_choice": "none",
            "max_response_output_tokens": cfg.max_tokens,
        }

    # ---- session → client --------------------------------------------------------------------------
    def encode(self, event: ServerEvent) -> list[Frame]:
        if isinstance(event, _Raw):
            return [event.text]
        if isinstance(event, SpeechStarted):
            self._user_item = "item_" + new_id().replace("-", "")
            self._partial = ""
            return [_event("input_audio_buffer.speech_started", audio_start_ms=event.at_ms, item_id=self._user_item)]
        if isinstance(event, SpeechStopped):
            item = self._user_item or "item_" + new_id().replace("-", "")
            self._user_item = item
            return [
                _event("input_audio_buffer.speech_stopped", audio_end_ms=event.at_ms, item_id=item),
                _event("input_audio_buffer.committed", previous_item_id=self._previous_item, item_id=item),
            ]
        if isinstance(event, PartialTranscript):
            return self._partial_delta(event.text)
        if isinstance(event, FinalTranscript):
            return self._user_said(event)
        if isinstance(event, AssistantDelta | TTSAudio | AssistantMessage):
            return self._response_part(event)
        if isinstance(event, Done):
            return self._response_done(event)
        if isinstance(event, Error):
            return self.error(TwinError(event.message, event.hint, code=event.code))
        return []

    def _partial_delta(self, text: str) -> list[Frame]:
        if not self._user_item or not text.startswith(self._partial) or text == self._partial:
            return []
        delta, self._partial = text[len(self._partial) :], text
        return [
            _event(
                "conversation.item.input_audio_transcription.delta",
                item_id=self._user_item,
                content_index=0,
                delta=delta,
            )
        ]

    def _user_said(self, event: FinalTranscript) -> list[Frame]:
        item = self._user_item or "item_" + new_id().replace("-", "")
        self._user_item = None
        previous, self._previous_item = self._previous_item, item
        self._turns[event.turn_id] = {"user_item": item, "started": False, "transcript": ""}
        content = [{"type": "input_audio", "transcript": event.text}]
        user = {"id": item, "object": "realtime.item", "type": "message", "role": "user", "status": "completed"}
        return [
            _event("conversation.item.created", previous_item_id=previous, item={**user, "content": content}),
            _event(
                "conversation.item.input_audio_transcription.completed",
                item_id=item,
                content_index=0,
                transcript=event.text,
            ),
        ]

    def _ids(self, turn_id: str) -> dict[str, Any]:
        turn = self._turns.setdefault(turn_id, {"user_item": None, "started": False, "transcript": ""})
        compact = turn_id.replace("-", "")
        return {**turn, "response_id": "resp_" + compact, "item_id": "item_" + compact}

    def _response_part(self, event: AssistantDelta | TTSAudio | AssistantMessage) -> list[Frame]:
        ids = self._ids(event.turn_id)
        out: list[Frame] = []
        where = {"response_id": ids["response_id"], "item_id": ids["item_id"], "output_index": 0, "content_index": 0}
        if not ids["started"]:
            self._turns[event.turn_id]["started"] = True
            response = {"id": ids["response_id"], "object": "realtime.response", "status": "in_progress", "output": []}
            out.append(_event("response.created", response=response))
        if isinstance(event, AssistantDelta):
            self._turns[event.turn_id]["transcript"] += event.text
            out.append(_event("response.audio_transcript.delta", **where, delta=event.text))
        elif isinstance(event, TTSAudio):
            out.append(_event("response.audio.delta", **where, delta=base64.b64encode(event.pcm).decode("ascii")))
        else:
            self._turns[event.turn_id]["transcript"] = event.text
            out.append(_event("response.audio.done", **where))
            out.append(_event("response.audio_transcript.done", **where, transcript=event.text))
        return out

    def _response_done(self, event: Done) -> list[Frame]:
        if event.turn_id is None or event.turn_id not in self._turns:
            return []
        ids = self._ids(event.turn_id)
        del self._turns[event.turn_id]
        if not ids["started"]:
            return []
        status = {"completed": "completed", "interrupted": "cancelled", "error": "failed"}.get(
            event.reason, "incomplete"
        )
        item = {
            "id": ids["item_id"],
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "completed" if status == "completed" else "incomplete",
            "content": [{"type": "audio", "transcript": ids["transcript"]}],
        }
        response = {
            "id": ids["response_id"],
            "object": "realtime.response",
            "status": status,
            "status_details": None if status == "completed" else {"type": status, "reason": event.reason},
            "output": [item],
            "usage": None,
        }
        return [_event("response.done", response=response)]

    def error(self, exc: TwinError) -> list[Frame]:
        client_side = exc.code.startswith("bad_request")
        kind = "invalid_request_error" if client_side else "server_error"
        code = exc.code.removeprefix("bad_request:")
        error = {"type": kind, "code": code, "message": exc.message, "param": None, "event_id": None}
        return [_event("error", error=error)]


class _Raw(ServerEvent):
    """An already encoded event that must keep its place among the session's events."""

    type = "raw"

    def __init__(self, text: str) -> None:
        self.text = text

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.text)


def _audio(data: object) -> bytes:
    if not isinstance(data, str):
        raise InvalidInput("input_audio_buffer.append needs 'audio'.", "Send base64 PCM16.", code="invalid_value")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("'audio' is not base64.", "Send base64 PCM16 at 24 kHz.", code="invalid_value") from None
