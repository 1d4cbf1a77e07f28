"""The voice protocol's messages, independent of any transport (docs/realtime-protocol.md).

Client messages are pydantic models validated from JSON (unknown fields refused, so typos surface);
server events are plain dataclasses on the hot path, each with `to_dict()` giving its JSON form. Audio
travels outside the JSON: `TTSAudio.pcm` holds PCM16LE bytes that the transport sends as base64 WAV
or as a binary frame after the JSON header."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from twin.errors import InvalidInput

MIN_RATE, MAX_RATE = 8000, 48000


class _Client(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hello(_Client):
    type: Literal["hello"]
    sample_rate: int = Field(..., description="Rate of the PCM16 mono audio the client sends (8000-48000 Hz).")
    persona: str = Field("twin", min_length=1, max_length=100, description="Persona name or id to talk with.")
    conversation_id: str | None = Field(None, max_length=40, description="Continue this stored conversation.")
    tts_format: Literal["wav", "pcm16"] = Field("wav", description="How tts_audio carries audio.")
    mode: Literal["auto", "push_to_talk"] = Field("auto", description="auto: the server ends turns itself.")


class End(_Client):
    type: Literal["end"]


class Cancel(_Client):
    type: Literal["cancel"]


class AudioFrame(_Client):
    """Legacy form of a binary frame: base64 PCM16LE mono at the hello rate."""

    type: Literal["audio_frame"]
    data: str = Field(..., max_length=1_400_000)

    def pcm(self) -> bytes:
        try:
            return base64.b64decode(self.data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("audio_frame data is not base64.", "Send base64 PCM16LE, or a binary frame.") from None


class Playback(_Client):
    """How much of a turn's audio the client has played so far (for exact truncation and echo timing)."""

    type: Literal["playback"]
    turn_id: str = Field(..., max_length=40)
    played_ms: float = Field(..., ge=0, le=3_600_000)


ClientMessage = Annotated[Hello | End | Cancel | AudioFrame | Playback, Field(discriminator="type")]
_CLIENT = TypeAdapter(ClientMessage)


def parse_client(text: str) -> Hello | End | Cancel | AudioFrame | Playback:
    """One client JSON message, or InvalidInput with code bad_request:<what> saying what is wrong."""
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidInput("The message is not JSON.", "Send JSON text messages.", code="bad_request:json") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise InvalidInput(
            'The message has no "type".', 'Send an object like {"type": "hello", ...}.', code="bad_request:type"
        )
    kinds = ("hello", "end", "cancel", "audio_frame", "playback")
    if data["type"] not in kinds:
        raise InvalidInput(
            f"Unknown message type {data['type'][:40]!r}.",
            "Known types: " + ", ".join(kinds) + ".",
            code="bad_request:type",
        )
    try:
        return _CLIENT.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        raise InvalidInput(
            f"Bad {data['type']} message: {where}: {first['msg']}.",
            "See docs/realtime-protocol.md for the message fields.",
            code=f"bad_request:{data['type']}",
        ) from None


def check_rate(rate: int) -> int:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidInput(
            f"sample_rate {rate} Hz is not supported.",
            f"Send PCM16 mono at {MIN_RATE}-{MAX_RATE} Hz (16000, 24000 or 48000 are common).",
            code="bad_request:sample_rate",
        )
    return rate


# ---- server events --------------------------------------------------------------------------------


@dataclass
class ServerEvent:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass
class Ready(ServerEvent):
    type: ClassVar[str] = "ready"
    session_id: str
    sample_rate: int
    output_sample_rate: int
    tts_format: str
    mode: str
    persona: str
    conversation_id: str | None = None
    limits: dict[str, float] = field(default_factory=dict)


@dataclass
class SpeechStarted(ServerEvent):
    type: ClassVar[str] = "speech_started"
    at_ms: int


@dataclass
class SpeechStopped(ServerEvent):
    type: ClassVar[str] = "speech_stopped"
    at_ms: int


@dataclass
class PartialTranscript(ServerEvent):
    type: ClassVar[str] = "partial_transcript"
    text: str


@dataclass
class FinalTranscript(ServerEvent):
    type: ClassVar[str] = "final_transcript"
    turn_id: str
    text: str


@dataclass
class AssistantDelta(ServerEvent):
    type: ClassVar[str] = "assistant_delta"
    turn_id: str
    text: str


@dataclass
class AssistantMessage(ServerEvent):
    type: ClassVar[str] = "assistant_message"
    turn_id: str
    text: str
    conversation_id: str | None = None
    message_id: str | None = None


@dataclass
class TTSAudio(ServerEvent):
    """One clause of speech. `pcm` is PCM16LE mono at `sample_rate`; it is not part of the JSON header."""

    type: ClassVar[str] = "tts_audio"
    turn_id: str
    seq: int
    text: str
    sample_rate: int
    pcm: bytes = field(repr=False)

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate * 1000

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "turn_id": self.turn_id,
            "seq": self.seq,
            "text": self.text,
            "sample_rate": self.sample_rate,
            "duration_ms": round(self.duration_ms, 1),
        }


@dataclass
class Interrupted(ServerEvent):
    type: ClassVar[str] = "interrupted"
    turn_id: str
    delivered_text: str
    played_ms: int
    reason: Literal["barge_in", "cancel"]


@dataclass
class Done(ServerEvent):
    type: ClassVar[str] = "done"
    turn_id: str | None
    conversation_id: str | None = None
    interrupted: bool = False
    reason: str = "completed"  # completed | interrupted | cancelled | no_speech | error


@dataclass
class Error(ServerEvent):
    type: ClassVar[str] = "error"
    code: str
    message: str
    hint: str = ""


Event = ServerEvent
