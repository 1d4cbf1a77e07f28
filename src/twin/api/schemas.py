"""Request and response models of the API (pydantic v2, extra fields refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from twin.voice.consent import ConsentRequest


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str = ""


class ErrorResponse(BaseModel):
    error: ErrorBody


# OpenAPI `responses=` entries: status -> {"model", "description", "content"…}.
Responses = dict[int | str, dict[str, Any]]


def _err(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


AUTH_RESPONSES: Responses = {
    401: _err("Missing or invalid API key."),
    422: _err("The request failed validation."),
}
NOT_FOUND: Responses = {404: _err("Not found in this key's profile.")}
TOO_LARGE: Responses = {413: _err("The body or upload is larger than the limit.")}
UNAVAILABLE: Responses = {503: _err("The engine needed is not installed or not reachable.")}
UNSUPPORTED: Responses = {415: _err("The audio format is not supported.")}
BAD_REQUEST: Responses = {400: _err("A parameter asks for something this server does not do.")}

# One server-sent event as clients parse it: `data` holds JSON (or "[DONE]").
SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "string"}, "event": {"type": "string"}},
}

_Strict = ConfigDict(extra="forbid")

MAX_PROMPT = 8000
# Voice ids and names are folder names: the same pattern as twin.ids.check_name.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
MAX_TEXT = 5000
# At least one character that is not white space (a blank prompt has nothing to draft).
NON_BLANK = r"\S"


class GenerateRequest(BaseModel):
    model_config = _Strict
    prompt: str = Field(..., min_length=1, max_length=MAX_PROMPT, pattern=NON_BLANK, description="What to write.")
    style_reference: str | None = Field(
        None, max_length=MAX_PROMPT, description="An example of the tone to match (optional)."
    )
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    stream: bool = Field(False, description="Stream text deltas as server-sent events.")


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class GenerateResponse(BaseModel):
    text: str
    model: str
    usage: Usage
    timings: dict[str, float]


AudioFormat = Literal["wav", "mp3"]


class CloneRequest(BaseModel):
    model_config = _Strict
    text: str = Field(..., min_length=1, max_length=MAX_TEXT)
    voice_id: str | None = Field(None, pattern=NAME_PATTERN, description="A voice from POST /api/voice/upload.")
    reference_audio: str | None = Field(
        None, description="Base64 WAV/MP3/FLAC/OGG reference clip, instead of voice_id."
    )
    consent: ConsentRequest | None = Field(
        None, description="Needed when reference_audio is not the owner's voice: who it is and how they agreed."
    )
    emotion: str | None = Field(None, max_length=32)
    format: AudioFormat = "wav"
    stream: bool = Field(False, description="Send audio with chunked transfer as it is made.")


class PipelineRequest(BaseModel):
    model_config = _Strict
    prompt: str = Field(..., min_length=1, max_length=MAX_PROMPT, pattern=NON_BLANK)
    style_reference: str | None = Field(None, max_length=MAX_PROMPT)
    voice_id: str | None = Field(None, pattern=NAME_PATTERN)
    reference_audio: str | None = None
    consent: ConsentRequest | None = Field(
        None, description="Needed when reference_audio is not the owner's voice: who it is and how they agreed."
    )
    emotion: str | None = Field(None, max_length=32)
    format: AudioFormat = "wav"
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    stream: bool = Field(False, description="Send NDJSON events: text deltas, audio chunks, done.")


class SpeechMeta(BaseModel):
    """Who spoke: the engine, the voice, the reference clip and the emotion actually used."""

    engine: str
    voice_id: str | None = Field(None, description="None: the base voice or a one-off reference clip.")
    reference: str = Field("", description="e.g. references/happy.wav, reference.wav, 'uploaded-clip'; '' = none.")
    emotion: str | None = Field(None, description="Emotion whose reference was used; None = the default one.")
    emotion_requested: str | None = None
    cache_hit: bool = False
    duration_s: float = 0.0
    fallbacks: list[dict[str, str]] = Field(default_factory=list, description="Engines skipped, with the reason.")


class PipelineResponse(BaseModel):
    text: str
    audio_base64: str
    format: AudioFormat
    sample_rate: int
    timings: dict[str, float]
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    speech: SpeechMeta


class VoiceInfo(BaseModel):
    voice_id: str
    name: str = ""
    duration_s: float = 0.0
    quality: dict[str, Any] = Field(default_factory=dict)
    emotions: list[str] = Field(default_factory=list)
    created: str = ""
    default: bool = Field(False, description="The profile's default voice: it speaks when no voice is named.")
    trained: bool = Field(False, description="Its converter was trained on the owner's recordings.")
    details: dict[str, Any] = Field(default_factory=dict)


class VoiceList(BaseModel):
    voices: list[VoiceInfo]


class EmotionList(BaseModel):
    emotions: list[str] = Field(..., description="Emotion tags recordings and voices use in this profile.")


class Probe(BaseModel):
    target: str = Field(description="What was checked: a URL, or 'in-process' for a module check.")
    method: str = Field(description="How: an HTTP request line, or 'import check'.")
    ok: bool
    result: str = Field(description="What came back: 'HTTP 200', 'connection refused', 'installed', …")
    latency_ms: float | None = None


class EngineStatus(BaseModel):
    capability: Literal["llm", "tts", "stt"]
    name: str
    kind: Literal["http", "in_process"]
    configured: bool = Field(description="This profile uses it (for TTS: it is in the engine chain).")
    installed: bool = Field(description="Its module and the packages it needs are installed.")
    reachable: bool | None = Field(description="An HTTP engine answered the probe; None for in-process engines.")
    warm: bool = Field(description="Loaded in this server process.")
    probe: Probe
    detail: str = ""


class EnginesResponse(BaseModel):
    engines: list[EngineStatus]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    uptime_s: float
