"""Request and response models of the OpenAI-compatible routes (/v1/...), shaped like OpenAI's own.

OpenAI clients send many optional fields. Requests keep unknown fields out of the way (ignored), but
every field OpenAI defines that would change the answer is declared: the ones twin can honour are
passed on, the others are refused with a clear 400 by the route (see openai_chat.check_supported).
Where a field accepts more than twin does, the published schema (WithJsonSchema) shows only what is
accepted, so the API documentation tells clients the truth."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from twin.api.schemas import MAX_TEXT, NAME_PATTERN

MAX_MESSAGE = 64_000
MAX_CHOICES = 8
MAX_STOP = 4
MAX_SEED = 2**31 - 1
FinishReason = Literal["stop", "length"]
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]

_TEXT_PART_SCHEMA = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "text"}, "text": {"type": "string", "maxLength": MAX_MESSAGE}},
}


def _only(schema: dict[str, Any]) -> WithJsonSchema:
    """Publish `schema` (or null) for a field that parses more than it accepts."""
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}]})


class ContentPart(BaseModel):
    """One part of a list-of-parts message content. Text parts are read; the route refuses the others
    (images, audio, files) with a 400 that says this model reads text only."""

    model_config = ConfigDict(extra="allow")  # e.g. Open WebUI's cache_control marker on text parts

    type: str = Field(..., max_length=40)
    text: str | None = Field(None, max_length=MAX_MESSAGE)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Annotated[
        Literal["system", "developer", "user", "assistant", "tool", "function"],
        WithJsonSchema({"enum": ["system", "developer", "user", "assistant"], "type": "string"}),
    ] = Field(..., description="'developer' is read as 'system'. Tool messages are refused (no tool calling).")
    content: Annotated[
        str | list[ContentPart] | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "maxLength": MAX_MESSAGE},
                    {"type": "array", "items": _TEXT_PART_SCHEMA, "maxItems": 100},
                ]
            }
        ),
    ] = Field(..., description="Text, or a list of text parts (joined with newlines).")
    name: str | None = Field(None, max_length=200, description="Participant name (not used).")
    tool_calls: Annotated[list[dict[str, Any]] | None, _only({"type": "array", "maxItems": 0})] = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(False, description="Send a last chunk with the token usage.")


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Annotated[str, WithJsonSchema({"const": "text"})] = Field("text", max_length=40)


Inert = Annotated[float | None, _only({"const": 0})]
StopText = Annotated[str, Field(max_length=200)]


class ChatCompletionRequest(BaseModel):
    """POST /v1/chat/completions. The model field is accepted whatever it says: this profile serves one
    writing model (the one GET /v1/models lists), and every response names it."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(..., max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=500)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, description="Clamped to what the model can produce.")
    max_completion_tokens: int | None = Field(None, ge=1, description="Same as max_tokens; wins when both are set.")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: StopText | Annotated[list[StopText], Field(max_length=MAX_STOP)] | None = Field(
        None, description="Up to 4 strings; generation stops before any of them."
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Sampling seed for repeatable output.")
    n: int = Field(1, ge=1, le=MAX_CHOICES, description="Completions to make (one after the other).")
    tools: Annotated[list[dict[str, Any]] | None, _only({"type": "array", "maxItems": 0})] = None
    tool_choice: Annotated[str | dict[str, Any] | None, _only({"enum": ["none", "auto"]})] = None
    functions: Annotated[list[dict[str, Any]] | None, _only({"type": "array", "maxItems": 0})] = None
    function_call: Annotated[str | dict[str, Any] | None, _only({"enum": ["none", "auto"]})] = None
    response_format: ResponseFormat | None = None
    presence_penalty: Inert = None
    frequency_penalty: Inert = None
    logit_bias: Annotated[dict[str, float] | None, _only({"type": "object", "maxProperties": 0})] = None
    logprobs: Annotated[bool | None, _only({"const": False})] = None
    top_logprobs: Annotated[int | None, _only({"const": 0})] = None
    modalities: Annotated[list[str] | None, _only({"type": "array", "items": {"const": "text"}})] = None
    audio: Annotated[dict[str, Any] | None, WithJsonSchema({"type": "null"})] = None


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: FinishReason
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: FinishReason | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed completion. With stream_options.include_usage every chunk has
    "usage": null except the last, which has no choices and the usage."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None


class SpeechRequest(BaseModel):
    """POST /v1/audio/speech. `voice` is a voice id of this profile, 'default', 'base', or an alias
    (OpenAI's voice names such as alloy or nova stand for the default voice unless mapped elsewhere)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(..., max_length=200, description="Any of GET /v1/audio/models; all use the profile's voice.")
    input: str = Field(..., min_length=1, max_length=MAX_TEXT)
    voice: str = Field(..., pattern=NAME_PATTERN, description="Voice id, alias, 'default' or 'base'.")
    response_format: SpeechFormat = Field("mp3", description="pcm is raw 24 kHz 16-bit little-endian mono.")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate.")
    instructions: str | None = Field(None, max_length=200, description="Names the emotion to use, e.g. 'happy'.")
    stream_format: Annotated[Literal["audio", "sse"], WithJsonSchema({"const": "audio"})] = "audio"


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "twin"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AudioModel(BaseModel):
    id: str
    name: str


class AudioModelList(BaseModel):
    models: list[AudioModel]


class AudioVoice(BaseModel):
    id: str
    name: str


class AudioVoiceList(BaseModel):
    voices: list[AudioVoice]
